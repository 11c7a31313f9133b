import { type StoredSession, TokenRefreshError } from '@atcute/oauth-client';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createRedisLock } from '../src/index.ts';
import {
	connect,
	createTestClient,
	freePort,
	RedisStore,
	type SpawnedRedis,
	signIn,
	spawnRedisServer,
	startTestOAuthServer,
	type TestClock,
	type TestOAuthServer,
	testClock,
	uniquePrefix,
} from './support/siblings.ts';

type Did = Parameters<typeof signIn>[2];

// servers of our own, even in CI: a primary and its replica, which this test cuts off and promotes
describe('an OAuth client on Redis that fails over to a replica that missed the last refresh', () => {
	let primary: SpawnedRedis;
	let replica: SpawnedRedis;
	const clients: Redis[] = [];
	let server: TestOAuthServer;
	let clock: TestClock;

	beforeAll(async () => {
		clock = testClock();
		// the replica's first sync starts at once (the default waits 5 s for more replicas)
		primary = await spawnRedisServer({ args: ['--repl-diskless-sync-delay', '0'] });
		replica = await spawnRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
		server = await startTestOAuthServer({ now: clock.now });
	});
	afterAll(async () => {
		for (const redis of clients) redis.disconnect();
		await server?.close();
		await replica?.close();
		await primary?.close();
	});

	/** an app process on the Redis at `url`; `key`: the app's key, the same after the failover. */
	const appOn = async (
		url: string,
		root: string,
		key?: Awaited<ReturnType<typeof createTestClient>>['key'],
	) => {
		const redis = connect(url);
		clients.push(redis);
		const sessions = new RedisStore<Did, StoredSession>({ redis, prefix: `${root}session:` });
		const made = await createTestClient(server, {
			...(key === undefined ? {} : { key }),
			clock,
			stores: { sessions, states: new RedisStore({ redis, prefix: `${root}state:` }) },
			requestLock: createRedisLock({ redis, prefix: `${root}lock:` }),
		});
		return { redis, sessions, client: made.client, key: made.key };
	};

	it('ends the session with an honest invalid_grant (the spent refresh token is a replay), not a silent sign-out', async () => {
		const root = uniquePrefix('failover');
		const before = await appOn(primary.url, root);
		const did = server.createAccount({ handle: 'failover.test' }).did as Did;
		await signIn(server, before.client, did);
		// the replica has the signed-in session before it is cut off
		expect(await before.redis.wait(1, 10_000)).toBe(1);
		const signedIn = (await before.sessions.get(did))!.tokenSet.refresh_token;

		// the replica is cut off from the primary (it now follows a port nobody listens on, as across
		// a partition); a refresh is then written to the primary only
		const partitioned = connect(replica.url);
		clients.push(partitioned);
		expect(await partitioned.replicaof('127.0.0.1', String(await freePort()))).toBe('OK');
		clock.advance(2 * 3600 * 1000);
		const held = await before.client.restore(did);
		expect((await held.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		expect(server.stats.token.refresh_token).toBe(1);
		expect((await before.sessions.get(did))!.tokenSet.refresh_token).not.toBe(signedIn);

		// the primary dies with that write; the replica is promoted and the app now talks to it
		await primary.stop('SIGKILL');
		const after = await appOn(replica.url, root, before.key);
		expect(await after.redis.replicaof('NO', 'ONE')).toBe('OK');
		// what the promoted replica holds is the session as signed in: its refresh token was spent
		expect((await after.sessions.get(did))!.tokenSet.refresh_token).toBe(signedIn);

		clock.advance(2 * 3600 * 1000);
		// restoring a stale session refreshes it, with the refresh token the replica had
		const failure = await after.client.restore(did).catch((err: unknown) => err);

		// the server saw the spent token come back and ended the grant; the client says so, typed,
		// and deletes the session it can no longer use
		expect(failure).toBeInstanceOf(TokenRefreshError);
		expect((failure as Error).message).toMatch(/invalid_grant: refresh token replayed/);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(server.stats.refreshAttempts).toBe(2);
		expect(server.sessions(did).at(-1)).toMatchObject({
			active: false,
			revokedReason: 'refresh token replayed',
		});
		expect(await after.sessions.get(did)).toBeUndefined();
	}, 30_000);
});
