// what the app does with what servers it does not control say: an authorization server that
// refuses a revocation, a PDS whose error is any text it likes.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { SESSION_COOKIE } from '../src/index.ts';
import { browser, type Harness, locationOf, postForm, signIn, startHarness } from './helpers.ts';

let harness: Harness;
/** the `error` the PDS answers `getSession` with, while set. */
let pdsError: string | undefined;

beforeAll(async () => {
	harness = await startHarness({
		wrapFetch: (fetch, server) => {
			const pds = new URL(server.pdsUrl).host;
			return async (input, init) => {
				const response = await fetch(input, init);
				const url = new URL(input instanceof Request ? input.url : String(input));
				if (pdsError === undefined || url.host !== pds || !url.pathname.endsWith('.getSession')) {
					return response;
				}
				// the PDS's own headers (its DPoP nonce), with a refusal of its own wording
				const headers = new Headers(response.headers);
				headers.set('content-type', 'application/json');
				headers.delete('content-length');
				return new Response(JSON.stringify({ error: pdsError, message: 'no' }), { status: 400, headers });
			};
		},
	});
});

afterAll(() => harness.close());

afterEach(() => {
	harness.server.reset();
	pdsError = undefined;
	harness.messages.length = 0;
	harness.errors.length = 0;
});

describe('a revocation the authorization server refuses', () => {
	it('is logged, naming the account; the sign-out goes on', async () => {
		const { app, server, alice, sessions } = harness;
		const user = browser(app);
		expect((await signIn(harness, user)).status).toBe(302);

		server.behaviour.revokeFailure = 'status_503';
		const logout = await postForm(user, '/logout');
		expect(logout.status).toBe(303);
		expect(locationOf(logout)).toBe('/');
		expect(user.jar.get(SESSION_COOKIE)).toBeUndefined();
		// the library deleted the session all the same
		expect(await sessions.get(alice.did)).toBeUndefined();

		await expect.poll(() => harness.messages).toHaveLength(1);
		expect(harness.messages[0]).toContain(alice.did);
		expect(harness.messages[0]).toContain('did not confirm the revocation');
		expect(harness.errors[0]).toMatchObject({ type: 'deleted', sub: alice.did, cause: 'revoked' });
		// no token reaches the log: the event carries none
		expect(JSON.stringify(harness.errors[0])).not.toMatch(/token/i);
	});

	it('logs nothing when the server confirms it', async () => {
		const user = browser(harness.app);
		expect((await signIn(harness, user)).status).toBe(302);
		expect((await postForm(user, '/logout')).status).toBe(303);
		// a listener runs without being awaited: give it the chance to log
		await new Promise((resolve) => setTimeout(resolve, 10));
		expect(harness.messages).toEqual([]);
	});
});

describe("a PDS's error on the protected page", () => {
	const shown = async (error: string): Promise<string> => {
		const user = browser(harness.app);
		expect((await signIn(harness, user)).status).toBe(302);
		pdsError = error;
		const response = await user.request('/protected');
		pdsError = undefined;
		expect(response.status).toBe(502);
		const text = await response.text();
		await postForm(user, '/logout');
		return text;
	};

	it('shows an XRPC error name as it is', async () => {
		expect(await shown('AccountTakedown')).toContain('AccountTakedown');
	});

	it('shows invalid_response for a sentence or an overlong name', async () => {
		const sentence = await shown('Your account is suspended, call +1 555 0100 now');
		expect(sentence).toContain('invalid_response');
		expect(sentence).not.toContain('call +1 555');

		const long = await shown(`E${'x'.repeat(500)}`);
		expect(long).toContain('invalid_response');
		expect(long).not.toContain('x'.repeat(65));
	});
});
