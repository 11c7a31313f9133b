import type { Did } from '@atcute/lexicons';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { OAuthTransientError } from './errors.ts';
import { createTestClient, signIn } from './test-utils/setup.ts';

const GET_SESSION = '/xrpc/com.atproto.server.getSession';

// the local wall clock, 90 s behind the servers', is set right (NTP) after a sign-in: the tokens'
// expiry, counted on the old clock, has passed on the new one, though the PDS takes them for another
// 30 s. with the authorization server down, the refresh that asks for fails: calls must go on with
// the token, as they do for one inside its refresh margin
describe('a forward step of the wall clock while the authorization server is down', () => {
	let server: TestOAuthServer;
	let alice: Did;
	beforeAll(async () => {
		// the servers keep time on a clock the test does not step
		server = await startTestOAuthServer({ now: () => performance.timeOrigin + performance.now() });
		alice = server.createAccount({ handle: 'alice.test' }).did as Did;
	});
	afterAll(() => server.close());
	afterEach(() => {
		vi.useRealTimers();
		server.reset();
	});

	/**
	 * signs in on a wall clock 90 s behind the servers' (access tokens live 60 s), then steps it
	 * forward. the wall clock is a fake `Date` from the start (a client reads `Date.now` as it was
	 * when made): frozen, then set; `performance.now()`, never stepped, is left alone.
	 */
	const signInThenStep = async (now?: () => number) => {
		vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
		server.behaviour.accessTokenTtl = 60;
		server.behaviour.clockSkewSeconds = 90;
		const { client } = await createTestClient(server, { now });
		const { session } = await signIn(server, client, alice);
		vi.setSystemTime(Date.now() + 90_000);
		server.behaviour.refreshFailure = 'status_503';
		return { client, session };
	};

	it('goes on with a token this process obtained, which the PDS still takes', async () => {
		const { session } = await signInThenStep();
		const response = await session.handle(GET_SESSION);
		await response.arrayBuffer();
		expect(response.status).toBe(200);
		// and the next, without asking the server again meanwhile (the failure defers the next try)
		const again = await session.handle(GET_SESSION);
		await again.arrayBuffer();
		expect(again.status).toBe(200);
		// the refresh was asked for, once, and failed
		expect(server.stats.refreshAttempts).toBe(1);
	});

	// a suspend: the wall clock (and the servers') moved on, the never-stepping clock stood still.
	// the token has really expired: the PDS refuses it once, and it is not sent again
	it('after a suspend, sends a token the PDS refuses once, then judges it by the wall clock', async () => {
		vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
		// servers on the wall clock: time passed for them too
		const suspended = await startTestOAuthServer();
		try {
			const did = suspended.createAccount({ handle: 'bob.test' }).did as Did;
			suspended.behaviour.accessTokenTtl = 60;
			const { client } = await createTestClient(suspended, { now: undefined });
			const { session } = await signIn(suspended, client, did);
			vi.setSystemTime(Date.now() + 2 * 60 * 60 * 1000);
			suspended.behaviour.refreshFailure = 'status_503';
			// the calls that reached the PDS's check of the token (a nonce challenge comes before it)
			const pdsCalls = () =>
				suspended.stats.requests.filter(
					(request) =>
						request.server === 'pds' && request.path === GET_SESSION && request.error !== 'use_dpop_nonce',
				).length;
			await expect(session.handle(GET_SESSION)).rejects.toBeInstanceOf(OAuthTransientError);
			expect(pdsCalls()).toBe(1);
			await expect(session.handle(GET_SESSION)).rejects.toBeInstanceOf(OAuthTransientError);
			// the refused token went no more to the PDS
			expect(pdsCalls()).toBe(1);
		} finally {
			await suspended.close();
		}
	});

	it('takes a clock the app gave as the truth: the token has expired, the failure is thrown', async () => {
		const { session } = await signInThenStep(() => Date.now());
		await expect(session.handle(GET_SESSION)).rejects.toBeInstanceOf(OAuthTransientError);
		expect(server.stats.refreshAttempts).toBe(1);
	});
});
