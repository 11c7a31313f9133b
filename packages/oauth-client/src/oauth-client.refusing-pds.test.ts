import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { REFUSED_RETRY_MS } from './constants.ts';
import { OAuthTransientError } from './errors.ts';
import { createMemoryLock, type LockFunction } from './lock.ts';
import type { OAuthClient } from './oauth-client.ts';
import type { OAuthSession } from './oauth-session.ts';
import type { StoredSession } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	signIn,
	type TestClock,
	type TestOAuthServer,
	type TestServerEnv,
	useTestServer,
} from './test-utils/setup.ts';
import type { OAuthTracer } from './tracer.ts';

const GET_SESSION = '/xrpc/com.atproto.server.getSession';

/** the status a call through `session` gets from the PDS. */
const statusOf = async (session: OAuthSession): Promise<number> => (await session.handle(GET_SESSION)).status;

/** the `Authorization` header's token of a request the client sends. */
const tokenOf = (init: RequestInit | undefined): string | undefined =>
	new Headers(init?.headers).get('authorization')?.replace(/^DPoP /, '');

/** a promise and the function that settles it. */
const signal = () => {
	let settle = () => {};
	const promise = new Promise<void>((resolve) => (settle = resolve));
	return { promise, settle: () => settle() };
};

/** lets every pending microtask and I/O callback run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

// a PDS that refuses every access token (its clock far ahead, a misconfiguration) must not cost
// a refresh per call: each spends a refresh token at the authorization server
describe('OAuthClient sessions on a PDS that refuses every token', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	// one clock for the server and every client, so time can be moved for both
	let clock: TestClock;
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, clock, createTestClient } = env));

	/**
	 * signs alice in with `client` and has the PDS refuse every token from then on: a call makes
	 * the one refresh, whose tokens are refused on arrival. returns the session that made it.
	 */
	const refusedOnArrival = async (client: OAuthClient): Promise<OAuthSession> => {
		await signIn(server, client, alice.did);
		server.behaviour.refuseEveryToken = true;
		const session = await client.restore(alice.did);
		expect(await statusOf(session)).toBe(401);
		expect(server.stats.token.refresh_token).toBe(1);
		return session;
	};

	it('makes one refresh per 30 s, not one per call, keeping the session', async () => {
		const events: string[] = [];
		const tracer: OAuthTracer = {
			trace: (operation, context, fn) =>
				fn().finally(() => {
					if (operation === 'refresh') events.push(JSON.stringify(context));
				}),
		};
		const { client, sessions } = await createTestClient(server, { tracer });
		await signIn(server, client, alice.did);
		server.behaviour.refuseEveryToken = true;

		// the first refusal refreshes and retries, as always; the new token is refused on arrival
		const first = await client.restore(alice.did);
		expect(await statusOf(first)).toBe(401);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(sessions.map.get(alice.did)?.tokenSet.refused_on_arrival).toBe(true);

		// later calls, through this session or restored ones, get the PDS's 401 without a refresh
		for (let call = 0; call < 5; call++) {
			const session = call % 2 === 0 ? first : await client.restore(alice.did);
			const response = await session.handle(GET_SESSION);
			expect(response.status).toBe(401);
			expect(response.headers.get('www-authenticate')).toMatch(/invalid_token/);
			clock.advance(5_000);
		}
		expect(server.stats.token.refresh_token).toBe(1);
		expect(events).toHaveLength(6);
		expect(events.slice(1).every((event) => JSON.parse(event).withheld === true)).toBe(true);

		// 30 s after that refresh, a refusal refreshes once more; the session was never ended
		clock.advance(REFUSED_RETRY_MS - 25_000);
		expect(await statusOf(first)).toBe(401);
		expect(server.stats.token.refresh_token).toBe(2);
		expect(sessions.map.get(alice.did)).toBeDefined();

		// once the PDS takes tokens again, the held one works without another refresh
		server.behaviour.refuseEveryToken = false;
		expect(await statusOf(await client.restore(alice.did))).toBe(200);
		expect(server.stats.token.refresh_token).toBe(2);
	});

	it('refreshes again for a one-off refusal of tokens that worked on arrival, however soon', async () => {
		const { client, sessions } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		for (let round = 1; round <= 3; round++) {
			server.behaviour.invalidTokenOnce = true;
			expect(await statusOf(session)).toBe(200);
			expect(server.stats.token.refresh_token).toBe(round);
			clock.advance(1_000);
		}
		expect(sessions.map.get(alice.did)?.tokenSet.refused_on_arrival).toBeUndefined();
	});

	it('holds back the refreshes of concurrent refused calls without the lock, with one store read', async () => {
		let locks = 0;
		const inner = createMemoryLock();
		const requestLock: LockFunction = (name, fn) => {
			locks++;
			return inner(name, fn);
		};
		// the PDS's answers to the 20 calls are handed over together, once all have come: each call
		// then finds the others' refresh under way (as calls whose answers overlap would)
		let arrived = 0;
		let barrier: ReturnType<typeof signal> | undefined;
		const gathering: typeof fetch = async (input, init) => {
			const response = await fetch(input, init);
			if (barrier === undefined || !String(input).endsWith('getSession')) return response;
			if (++arrived === 20) barrier.settle();
			await barrier.promise;
			return response;
		};
		const sessions = new MapStore<StoredSession>();
		const { client } = await createTestClient(server, { requestLock, fetch: gathering, sessions });
		const session = await refusedOnArrival(client);
		const before = locks;
		sessions.calls.length = 0;

		barrier = signal();
		const statuses = await Promise.all(Array.from({ length: 20 }, () => statusOf(session)));
		expect(statuses.every((status) => status === 401)).toBe(true);
		expect(server.stats.token.refresh_token).toBe(1);
		// the concurrent refusals share the one held-back refresh, as they would share a refresh,
		// and the mark read from the store holds it back: no caller queues at the lock for that
		expect(sessions.calls).toEqual([`get ${alice.did}`]);
		expect(locks - before).toBe(0);
	});

	it('holds refreshes back for every client on the store: the mark is stored with the tokens', async () => {
		const first = await createTestClient(server);
		await signIn(server, first.client, alice.did);
		// another process on the same store
		const second = await createTestClient(server, { key: first.key, sessions: first.sessions });
		server.behaviour.refuseEveryToken = true;

		expect(await statusOf(await first.client.restore(alice.did))).toBe(401);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(await statusOf(await second.client.restore(alice.did))).toBe(401);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('adopts the stored tokens when the refresh it joined was held back for another token', async () => {
		// the store answers a refresh's read of the session only when the test says, once armed
		let gate: ReturnType<typeof signal> | undefined;
		const entered = signal();
		class GatedStore extends MapStore<StoredSession> {
			override async get(key: string): Promise<StoredSession | undefined> {
				const waiting = gate;
				gate = undefined;
				if (waiting !== undefined) {
					entered.settle();
					await waiting.promise;
				}
				return super.get(key);
			}
		}
		// tells when the PDS has answered a call made with `watched`
		let watched: string | undefined;
		const answered = signal();
		const watching: typeof fetch = async (input, init) => {
			const response = await fetch(input, init);
			if (watched !== undefined && tokenOf(init) === watched) answered.settle();
			return response;
		};
		const { client, sessions } = await createTestClient(server, {
			fetch: watching,
			sessions: new GatedStore(),
		});
		await signIn(server, client, alice.did);
		const older = await client.restore(alice.did);
		const olderToken = sessions.map.get(alice.did)!.tokenSet.access_token;

		// a newer session's refresh brings tokens the PDS refuses on arrival: marked
		server.behaviour.refuseEveryToken = true;
		const newer = await client.restore(alice.did);
		expect(await statusOf(newer)).toBe(401);
		server.behaviour.refuseEveryToken = false;
		expect(server.stats.token.refresh_token).toBe(1);

		// the marked tokens are refused once more: that refresh is held back, once its read of the
		// stored session is answered
		const held = signal();
		gate = held;
		server.behaviour.invalidTokenOnce = true;
		const newerCall = statusOf(newer);
		await entered.promise;
		// meanwhile the older session's token, replaced by the first refresh, is refused: its caller
		// joins the held-back refresh, which holds back only the token it was for
		watched = olderToken;
		const olderCall = statusOf(older);
		await answered.promise;
		await settled();
		held.settle();

		expect(await newerCall).toBe(401);
		// it adopted the stored tokens and retried with them
		expect(await olderCall).toBe(200);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('refreshes a stale token whose refresh before expiry was deferred, even when refused on arrival', async () => {
		// 20 s tokens: stale 5 s before they expire, well within the hold's 30 s
		server.behaviour.accessTokenTtl = 20;
		const { client } = await createTestClient(server);
		const session = await refusedOnArrival(client);

		// stale now; the refresh before use fails, so the token goes out as it is, and is refused:
		// a stale token is refreshed for its refusal, hold or not (here it fails again, and says so)
		clock.advance(16_000);
		server.behaviour.refreshFailure = 'status_503';
		await expect(session.handle(GET_SESSION)).rejects.toBeInstanceOf(OAuthTransientError);
	});

	it('holds nothing back once the clock is set back past when the tokens were requested', async () => {
		const { client } = await createTestClient(server);
		const session = await refusedOnArrival(client);

		clock.advance(-60_000);
		expect(await statusOf(session)).toBe(401);
		expect(server.stats.token.refresh_token).toBe(2);
	});

	it('refreshes marked tokens when asked to, or when they are about to expire, and drops the mark', async () => {
		const { client, sessions } = await createTestClient(server);
		const session = await refusedOnArrival(client);

		// asked for: refreshed, and the new tokens carry no mark
		await session.refresh();
		expect(server.stats.token.refresh_token).toBe(2);
		expect(sessions.map.get(alice.did)?.tokenSet.refused_on_arrival).toBeUndefined();

		// marked again; held back 15 s on; refreshed before use once about to expire
		expect(await statusOf(session)).toBe(401);
		expect(server.stats.token.refresh_token).toBe(3);
		expect(sessions.map.get(alice.did)?.tokenSet.refused_on_arrival).toBe(true);
		clock.advance(REFUSED_RETRY_MS / 2);
		expect(await statusOf(session)).toBe(401);
		expect(server.stats.token.refresh_token).toBe(3);
		const expiresAt = sessions.map.get(alice.did)!.tokenSet.expires_at!;
		clock.advance(expiresAt - 1_000 - clock.now());
		await client.restore(alice.did);
		expect(server.stats.token.refresh_token).toBe(4);
		expect(sessions.map.get(alice.did)?.tokenSet.refused_on_arrival).toBeUndefined();
	});

	it('spares refresh tokens behind @atcute/client too, each refusal reaching the app as a failed call', async () => {
		const { client } = await createTestClient(server);
		await signIn(server, client, alice.did);
		server.behaviour.refuseEveryToken = true;
		const rpc = new Client({ handler: await client.restore(alice.did) });
		for (let call = 0; call < 3; call++) {
			const result = await rpc.get('com.atproto.server.getSession', {});
			expect(result.ok).toBe(false);
		}
		expect(server.stats.token.refresh_token).toBe(1);
	});
});
