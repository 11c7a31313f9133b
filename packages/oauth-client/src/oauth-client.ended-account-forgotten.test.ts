import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { OAuthTransientError } from './errors.ts';
import type { StoredSession } from './stored-types.ts';
import {
	signIn,
	type TestAccount,
	type TestOAuthServer,
	type TestServerEnv,
	useTestServer,
} from './test-utils/setup.ts';

/** a fetch on which the token endpoint turns refreshes away (429, `Retry-After: 600`) while `limited`. */
const rateLimitedFetch = (server: TestOAuthServer) => {
	const state = { limited: true, turnedAway: 0 };
	const fetchImpl: typeof fetch = async (input, init) => {
		const url = String(input instanceof Request ? input.url : input);
		if (
			state.limited &&
			url === `${server.issuer}/oauth/token` &&
			String(init?.body).includes('refresh_token')
		) {
			state.turnedAway += 1;
			return new Response('{"error":"slow_down"}', { status: 429, headers: { 'retry-after': '600' } });
		}
		return fetch(input, init);
	};
	return { state, fetch: fetchImpl };
};

// what the client keeps in memory per account (the Retry-After hold on its refreshes) goes with the
// session: a signed-out or erased account's DID is not kept for the 10 minutes the server asked for
describe("an ended session's account leaves the client's memory", () => {
	let server: TestOAuthServer;
	let alice: TestAccount;
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, createTestClient } = env));

	const setUp = async () => {
		const limiter = rateLimitedFetch(server);
		const test = await createTestClient(server, { fetch: limiter.fetch });
		const { session } = await signIn(server, test.client, alice.did);
		await expect(session.refresh()).rejects.toMatchObject({ kind: 'rate_limited', status: 429 });
		const saved = structuredClone(test.sessions.map.get(alice.did)) as StoredSession;
		// held while the session lives: the next refresh is not sent
		await expect(test.client.restore(alice.did, { refresh: true })).rejects.toBeInstanceOf(
			OAuthTransientError,
		);
		expect(limiter.state.turnedAway).toBe(1);
		/**
		 * whether a refresh with the ended session's refresh token (put back in the store as it was)
		 * is still held back: only if the client still remembers the account.
		 */
		const stillHeld = async () => {
			limiter.state.limited = false;
			test.sessions.map.set(alice.did, saved);
			const before = server.stats.token.refresh_token;
			const err = await test.client.restore(alice.did as Did, { refresh: true }).catch((e: unknown) => e);
			return err instanceof OAuthTransientError && server.stats.token.refresh_token === before;
		};
		return { ...test, session, stillHeld };
	};

	it('at a sign-out', async () => {
		const { session, stillHeld } = await setUp();
		await session.signOut();
		expect(await stillHeld()).toBe(false);
	});

	it('at a revoke by DID', async () => {
		const { client, stillHeld } = await setUp();
		await client.revoke(alice.did);
		expect(await stillHeld()).toBe(false);
	});
});
