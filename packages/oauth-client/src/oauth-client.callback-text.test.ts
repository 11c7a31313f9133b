import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { OAuthCallbackError, OAuthResponseError } from './errors.ts';
import { createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/**
 * a callback's `iss`, `error` and `error_description` are text from a link anyone holding a state
 * can write (an attacker signs in to the app with their own account and edits the redirect):
 * as the client does for an identifier a visitor typed, a logged error must stay one line of
 * bounded length.
 */
describe('OAuthClient.callback: text from the callback in error messages', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => ({ server, alice } = env));

	const forge = async (edit: (params: URLSearchParams) => void) => {
		const { client } = await createTestClient(server);
		const { url } = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		const params = await server.authorize(url, { did: alice.did });
		edit(params);
		return (await client.callback(params).catch((err: unknown) => err)) as OAuthCallbackError;
	};

	const forged = '\n2026-12-07T05:00:00Z INFO admin signed in\u202e';

	it('escapes and cuts an iss that is not the issuer', async () => {
		const error = await forge((params) =>
			params.set('iss', `https://evil.example/${forged}${'x'.repeat(10_000)}`),
		);
		expect(error).toBeInstanceOf(OAuthCallbackError);
		expect(error.error).toBe('issuer_mismatch');
		expect(error.message).not.toMatch(/[\n\u202e]/);
		expect(error.message).toContain('\\u000a');
		expect(error.message.length).toBeLessThan(1_000);
		// the issuer the sign-in was made with is named first: no forged text pushes it out
		expect(error.message).toContain(`does not come from ${server.issuer}`);
	});

	it("escapes and cuts the server's error and error_description in the message (the fields keep them)", async () => {
		const description = `${forged}${'y'.repeat(10_000)}`;
		const error = await forge((params) => {
			params.delete('code');
			params.set('error', `access_denied${forged}`);
			params.set('error_description', description);
		});
		expect(error).toBeInstanceOf(OAuthCallbackError);
		expect(error.errorDescription).toBe(description);
		expect(error.message).not.toMatch(/[\n\u202e]/);
		expect(error.message.length).toBeLessThan(1_000);
	});
});

/**
 * the token endpoint that refuses the callback's code is anyone's: an attacker signs in to the app
 * with an account on their own server. its `error` and `error_description` reach the message of
 * the `OAuthResponseError` the callback throws, which an app logs.
 */
describe("OAuthClient.callback: the token endpoint's words in error messages", () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => ({ server, alice } = env));

	const forged = '\n2026-12-07T05:00:00Z INFO admin signed in\u202e';

	it('escapes and cuts them in the message (the fields keep them)', async () => {
		const description = `${forged}${'y'.repeat(10_000)}`;
		const { client } = await createTestClient(server, {
			fetch: (async (input, init) => {
				if (new URL(String(input)).pathname !== '/oauth/token') return globalThis.fetch(input, init);
				return Response.json(
					{ error: `invalid_grant${forged}`, error_description: description },
					{ status: 400 },
				);
			}) as typeof globalThis.fetch,
		});
		const { url } = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		const params = await server.authorize(url, { did: alice.did });
		const error = (await client.callback(params).catch((err: unknown) => err)) as OAuthResponseError;
		expect(error).toBeInstanceOf(OAuthResponseError);
		expect(error.error).toBe(`invalid_grant${forged}`);
		expect(error.errorDescription).toBe(description);
		expect(error.message).not.toMatch(/[\n\u202e]/);
		expect(error.message).toContain('\\u000a');
		expect(error.message.length).toBeLessThan(1_000);
		// the endpoint is named first: no forged text pushes it out
		expect(error.message).toContain(`token endpoint at ${server.issuer}/oauth/token answered 400`);
	});
});
