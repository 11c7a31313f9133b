import { OAuthCallbackError, SessionNotFoundError, type StoredSession } from '@atcute/oauth-client';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createRedisLock, LockUnavailableError } from '../src/index.ts';
import {
	connect,
	createTestClient,
	RedisStore,
	type SpawnedRedis,
	StoreUnavailableError,
	signIn,
	spawnRedisServer,
	startTestOAuthServer,
	type TestClock,
	type TestOAuthServer,
	testClock,
	uniquePrefix,
} from './support/siblings.ts';

type Did = Parameters<typeof signIn>[2];

// a server of our own, even in CI: this test stops and restarts it. its data is kept on disk
// (append-only file) across the restart, as a production Redis keeps it.
describe('an OAuth client on Redis that restarts mid-run', () => {
	let redisServer: SpawnedRedis;
	let redis: Redis;
	let server: TestOAuthServer;
	// one clock for the server and the client, so the access token can be made stale for both
	let clock: TestClock;

	beforeAll(async () => {
		clock = testClock();
		redisServer = await spawnRedisServer({ persistent: true });
		redis = connect(redisServer.url);
		server = await startTestOAuthServer({ now: clock.now });
	});
	afterAll(async () => {
		redis?.disconnect();
		await server?.close();
		await redisServer?.close();
	});

	it('fails with typed transient errors while Redis is down, deletes no session, and refreshes once after', async () => {
		const root = uniquePrefix('restart');
		const sessions = new RedisStore<Did, StoredSession>({ redis, prefix: `${root}session:`, timeout: 500 });
		const { client } = await createTestClient(server, {
			clock,
			stores: { sessions, states: new RedisStore({ redis, prefix: `${root}state:`, timeout: 500 }) },
			requestLock: createRedisLock({ redis, prefix: `${root}lock:`, timeout: 500 }),
		});
		const did = server.createAccount({ handle: 'restart.test' }).did as Did;
		await signIn(server, client, did);
		const held = await client.restore(did);
		const before = await sessions.get(did);
		server.reset();

		await redisServer.stop();
		// a restore reads the store: the read fails, typed, and never looks like "no session"
		const restoreError = await client.restore(did).catch((err: unknown) => err);
		expect(restoreError).toBeInstanceOf(StoreUnavailableError);
		expect(restoreError).toMatchObject({ operation: 'get', transient: true });
		// a held session whose token is now stale needs the lock to refresh: typed, too
		clock.advance(2 * 3600 * 1000);
		const refreshError = await held
			.handle('/xrpc/com.atproto.server.getSession')
			.catch((err: unknown) => err);
		expect(refreshError).toBeInstanceOf(LockUnavailableError);
		expect(refreshError).toMatchObject({ transient: true });
		// neither is a verdict on the session: nothing reached the token endpoint
		expect(server.stats.refreshAttempts).toBe(0);

		await redisServer.start();
		// ioredis reconnects on its own; the session is still there
		await expect
			.poll(() => sessions.get(did).catch((err: unknown) => err), { timeout: 10_000 })
			.toEqual(before);

		const response = await held.handle('/xrpc/com.atproto.server.getSession');
		expect(response.status).toBe(200);
		expect(server.stats.token.refresh_token).toBe(1);
		const current = server.sessions(did).at(-1)!;
		expect(current.active).toBe(true);
		expect((await sessions.get(did))!.tokenSet.refresh_token).toBe(current.refreshToken);
		expect((await client.restore(did)).did).toBe(did);
		server.assertNoRejections();
		await sessions.clear();
	});
});

// a server of our own, even in CI: started without persistence (no AOF, no RDB), as a cache is
describe('an OAuth client on a Redis restarted without persistence', () => {
	let redisServer: SpawnedRedis;
	let redis: Redis;
	let server: TestOAuthServer;

	beforeAll(async () => {
		redisServer = await spawnRedisServer();
		redis = connect(redisServer.url);
		server = await startTestOAuthServer();
	});
	afterAll(async () => {
		redis?.disconnect();
		await server?.close();
		await redisServer?.close();
	});

	it('loses every session and sign-in under way, and says so: no session, an unknown state', async () => {
		const root = uniquePrefix('no-persistence');
		const { client } = await createTestClient(server, {
			stores: {
				sessions: new RedisStore({ redis, prefix: `${root}session:` }),
				states: new RedisStore({ redis, prefix: `${root}state:` }),
			},
			requestLock: createRedisLock({ redis, prefix: `${root}lock:` }),
		});
		const did = server.createAccount({ handle: 'cache.test' }).did as Did;
		await signIn(server, client, did);
		const { url } = await client.authorize({ target: { type: 'account', identifier: did } });
		const params = await server.authorize(url, { did });

		await redisServer.stop();
		await redisServer.start();
		await expect.poll(() => redis.ping().catch((err: unknown) => err), { timeout: 10_000 }).toBe('PONG');

		await expect(client.restore(did)).rejects.toBeInstanceOf(SessionNotFoundError);
		await expect(client.callback(params)).rejects.toBeInstanceOf(OAuthCallbackError);
	});
});
