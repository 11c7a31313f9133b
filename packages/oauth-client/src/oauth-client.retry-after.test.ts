import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import type { Did } from '@atcute/lexicons';
import { describe, expect, it, vi } from 'vitest';

import { OAuthTransientError } from './errors.ts';
import type { OAuthSession } from './oauth-session.ts';
import {
	CLIENT_ID,
	signIn,
	type TestAccount,
	type TestClock,
	type TestOAuthServer,
	type TestServerEnv,
	useTestServer,
} from './test-utils/setup.ts';
import type { OAuthTracer, RefreshTraceContext } from './tracer.ts';

/** at most `ms`, and less only by what the test took: its clock runs on from real time. */
const about = (ms: number) => expect.toSatisfy((left: number) => left <= ms && left > ms - 10_000);

const getSession = (session: OAuthSession) =>
	new Client({ handler: session }).get('com.atproto.server.getSession', {});

/**
 * a fetch on which the token endpoint turns refreshes away with `status` and `Retry-After:
 * retryAfter` while `limited` is set, counting them in `turnedAway`, and counts the PDS's calls.
 */
const rateLimitedFetch = (server: TestOAuthServer, status = 429, retryAfter = '60') => {
	const state = { limited: true, turnedAway: 0, pdsCalls: 0, asCalls: 0 };
	const fetchImpl: typeof fetch = async (input, init) => {
		const url = String(input instanceof Request ? input.url : input);
		if (url.includes('/xrpc/')) state.pdsCalls += 1;
		else if (url.startsWith(server.issuer)) state.asCalls += 1;
		if (
			state.limited &&
			url === `${server.issuer}/oauth/token` &&
			String(init?.body).includes('refresh_token')
		) {
			state.turnedAway += 1;
			return new Response('{"error":"slow_down"}', { status, headers: { 'retry-after': retryAfter } });
		}
		return fetch(input, init);
	};
	return { state, fetch: fetchImpl };
};

describe("a refresh turned away with Retry-After: none of the account's refreshes is sent until it passes", () => {
	let server: TestOAuthServer;
	let alice: TestAccount;
	let clock: TestClock;
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, clock, createTestClient } = env));

	it('holds back a refresh asked for, with what is left of the wait, and sends the next one after it', async () => {
		const limiter = rateLimitedFetch(server);
		const { client } = await createTestClient(server, { fetch: limiter.fetch });
		const { session } = await signIn(server, client, alice.did);

		await expect(session.refresh()).rejects.toMatchObject({
			kind: 'rate_limited',
			status: 429,
			retryAfterMs: about(60_000),
		});
		expect(limiter.state.turnedAway).toBe(1);

		clock.advance(20_000);
		const held = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(held).toBeInstanceOf(OAuthTransientError);
		expect(held).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: about(40_000) });
		expect((held as Error).message).toContain(alice.did);
		expect((held as Error).message).toContain('40 s');
		await expect(session.refresh()).rejects.toMatchObject({ retryAfterMs: about(40_000) });
		expect(limiter.state.turnedAway).toBe(1);

		clock.advance(40_000);
		limiter.state.limited = false;
		await session.refresh();
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('holds back the refresh of a token the PDS refused: the PDS is asked, the token endpoint is not', async () => {
		const limiter = rateLimitedFetch(server, 503, '30');
		const { client } = await createTestClient(server, { fetch: limiter.fetch });
		const { session } = await signIn(server, client, alice.did);

		server.behaviour.invalidTokenOnce = true;
		await expect(session.handle('/xrpc/com.atproto.server.getSession')).rejects.toMatchObject({
			kind: 'server_error',
			status: 503,
			retryAfterMs: about(30_000),
		});
		expect(limiter.state.turnedAway).toBe(1);

		clock.advance(10_000);
		server.behaviour.invalidTokenOnce = true;
		const pdsCalls = limiter.state.pdsCalls;
		await expect(session.handle('/xrpc/com.atproto.server.getSession')).rejects.toMatchObject({
			kind: 'server_error',
			status: 503,
			retryAfterMs: about(20_000),
		});
		expect(limiter.state.pdsCalls).toBe(pdsCalls + 1);
		expect(limiter.state.turnedAway).toBe(1);

		// the wait over, the next refusal refreshes and the call is retried
		clock.advance(20_000);
		limiter.state.limited = false;
		server.behaviour.invalidTokenOnce = true;
		expect((await getSession(session)).ok).toBe(true);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('holds back the refresh of an expired token: restore() fails at once, and the session is kept', async () => {
		const limiter = rateLimitedFetch(server, 429, '600');
		const { client, sessions } = await createTestClient(server, { fetch: limiter.fetch });
		const { session } = await signIn(server, client, alice.did);
		// 10 s before the access token expires, the refresh is turned away for 10 minutes
		const expiresAt = session.getTokenInfo().expiresAt!.getTime();
		clock.advance(expiresAt - clock.now() - 10_000);
		await expect(session.refresh()).rejects.toMatchObject({ retryAfterMs: about(600_000) });
		const stored = sessions.map.get(alice.did);

		clock.advance(expiresAt - clock.now() + 1000);
		await expect(client.restore(alice.did)).rejects.toMatchObject({ kind: 'rate_limited', transient: true });
		await expect(getSession(session)).rejects.toMatchObject({ kind: 'rate_limited' });
		expect(limiter.state.turnedAway).toBe(1);
		expect(sessions.map.get(alice.did)).toEqual(stored);
	});

	it('adopts during the wait the tokens another process refreshed', async () => {
		const limiter = rateLimitedFetch(server);
		const first = await createTestClient(server, { fetch: limiter.fetch });
		const { session } = await signIn(server, first.client, alice.did);
		// the access token expires in 10 s: the next call would refresh it
		clock.advance(session.getTokenInfo().expiresAt!.getTime() - clock.now() - 10_000);
		await expect(session.refresh()).rejects.toMatchObject({ retryAfterMs: about(60_000) });

		// another process, not rate limited, on the same store
		const second = await createTestClient(server, { key: first.key, sessions: first.sessions });
		await second.client.restore(alice.did, { refresh: true });
		expect(server.stats.token.refresh_token).toBe(1);

		clock.advance(20_000);
		expect((await getSession(session)).ok).toBe(true);
		expect((await getSession(await first.client.restore(alice.did))).ok).toBe(true);
		expect(limiter.state.turnedAway).toBe(1);
	});

	it('sends nothing to the authorization server during the wait, its metadata past the cache time included', async () => {
		// the metadata cache keeps Date.now as its clock when the client is made: a fake one, moved below
		vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
		try {
			const limiter = rateLimitedFetch(server, 429, '600');
			const { client } = await createTestClient(server, { fetch: limiter.fetch });
			const { session } = await signIn(server, client, alice.did);
			await expect(session.refresh()).rejects.toMatchObject({ retryAfterMs: 600_000 });
			const asCalls = limiter.state.asCalls;

			// two minutes on, for the cache (60 s) and the client alike
			vi.setSystemTime(Date.now() + 120_000);
			for (let i = 0; i < 3; i++) {
				await expect(session.refresh()).rejects.toMatchObject({
					kind: 'rate_limited',
					retryAfterMs: 480_000,
				});
			}
			expect(limiter.state.asCalls).toBe(asCalls);
		} finally {
			vi.useRealTimers();
		}
	});

	it('tries a refresh before expiry as soon as the wait is over, not 30 s later', async () => {
		const limiter = rateLimitedFetch(server, 429, '40');
		const { client } = await createTestClient(server, { fetch: limiter.fetch });
		const { session } = await signIn(server, client, alice.did);
		// 55 s before the access token expires: inside the refresh margin
		clock.advance(session.getTokenInfo().expiresAt!.getTime() - clock.now() - 55_000);
		await expect(session.refresh()).rejects.toMatchObject({ retryAfterMs: about(40_000) });

		// 35 s on, the refresh before expiry is held back for the 5 s left: the token is used
		clock.advance(35_000);
		expect((await getSession(session)).ok).toBe(true);
		expect(limiter.state.turnedAway).toBe(1);
		// 6 s on, the wait is over and the server is back: this call refreshes
		clock.advance(6_000);
		limiter.state.limited = false;
		expect((await getSession(session)).ok).toBe(true);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('holds back only the account turned away', async () => {
		const bob = server.createAccount({ handle: 'bob.test' }) as { did: Did };
		const limiter = rateLimitedFetch(server);
		const { client } = await createTestClient(server, { fetch: limiter.fetch });
		const { session: aliceSession } = await signIn(server, client, alice.did);
		const { session: bobSession } = await signIn(server, client, bob.did);
		await expect(aliceSession.refresh()).rejects.toMatchObject({ retryAfterMs: about(60_000) });

		limiter.state.limited = false;
		await bobSession.refresh();
		await expect(aliceSession.refresh()).rejects.toMatchObject({ retryAfterMs: about(60_000) });
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('counts the wait again from a clock set back before the answer, no longer than the server asked', async () => {
		const limiter = rateLimitedFetch(server);
		const { client } = await createTestClient(server, { fetch: limiter.fetch });
		const { session } = await signIn(server, client, alice.did);
		await expect(session.refresh()).rejects.toMatchObject({ retryAfterMs: about(60_000) });

		clock.advance(-3_600_000);
		await expect(session.refresh()).rejects.toMatchObject({ retryAfterMs: about(60_000) });
		clock.advance(60_000);
		limiter.state.limited = false;
		await session.refresh();
		expect(limiter.state.turnedAway).toBe(1);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('does not hold back a session with another refresh token: the account signed in again', async () => {
		const limiter = rateLimitedFetch(server);
		const { client } = await createTestClient(server, { fetch: limiter.fetch });
		const { session: first } = await signIn(server, client, alice.did);
		await expect(first.refresh()).rejects.toMatchObject({ retryAfterMs: about(60_000) });

		limiter.state.limited = false;
		const { session: second } = await signIn(server, client, alice.did);
		await second.refresh();
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it("does not defer the refresh before expiry of the account's next sign-in for a failure of the last one's", async () => {
		const limiter = rateLimitedFetch(server, 503, '3600');
		const { client } = await createTestClient(server, { fetch: limiter.fetch });
		const { session: first } = await signIn(server, client, alice.did);
		// inside the refresh margin: the refresh before expiry is turned away, the token is used
		clock.advance(first.getTokenInfo().expiresAt!.getTime() - clock.now() - 50_000);
		expect((await getSession(first)).ok).toBe(true);
		expect(limiter.state.turnedAway).toBe(1);

		// the user signs out and in again, and the server is back
		await first.signOut();
		limiter.state.limited = false;
		const { session: second } = await signIn(server, client, alice.did);
		// the new token reaches its own refresh margin within the hour the server asked for the old one
		clock.advance(second.getTokenInfo().expiresAt!.getTime() - clock.now() - 50_000);
		expect((await getSession(second)).ok).toBe(true);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('does not hold back a session with another refresh token: another process refreshed it', async () => {
		const limiter = rateLimitedFetch(server);
		const first = await createTestClient(server, { fetch: limiter.fetch });
		const { session } = await signIn(server, first.client, alice.did);
		await expect(session.refresh()).rejects.toMatchObject({ retryAfterMs: about(60_000) });
		const second = await createTestClient(server, { key: first.key, sessions: first.sessions });
		await second.client.restore(alice.did, { refresh: true });

		// what was turned away is no longer what is stored: this process's next refresh is sent
		limiter.state.limited = false;
		await session.refresh();
		await first.client.restore(alice.did, { refresh: true });
		expect(server.stats.token.refresh_token).toBe(3);
	});

	it('does not hold back after an answer without Retry-After', async () => {
		const { client } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		server.behaviour.refreshFailure = 'status_503';
		await expect(session.refresh()).rejects.toMatchObject({ status: 503, retryAfterMs: undefined });
		server.behaviour.refreshFailure = undefined;
		await session.refresh();
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('traces a refresh held back as one that sent no token request', async () => {
		const refreshes: RefreshTraceContext[] = [];
		const tracer: OAuthTracer = {
			trace: (operation, context, fn) => {
				if (operation === 'refresh') refreshes.push(context as RefreshTraceContext);
				return fn();
			},
		};
		const limiter = rateLimitedFetch(server);
		const { client } = await createTestClient(server, { fetch: limiter.fetch, tracer });
		const { session } = await signIn(server, client, alice.did);
		await expect(session.refresh()).rejects.toBeInstanceOf(OAuthTransientError);
		await expect(session.refresh()).rejects.toBeInstanceOf(OAuthTransientError);

		expect(refreshes).toEqual([
			{ sub: alice.did, clientId: CLIENT_ID, issuer: server.issuer },
			{ sub: alice.did, clientId: CLIENT_ID, issuer: server.issuer, waitingOnRetryAfter: true },
		]);
	});
});
