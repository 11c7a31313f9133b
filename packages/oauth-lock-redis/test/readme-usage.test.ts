import type { StoredSession } from '@atcute/oauth-client';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createRedisLock } from '../src/index.ts';
import {
	connect,
	createTestClient,
	keysUnder,
	RedisStore,
	removeKeys,
	signIn,
	startTestOAuthServer,
	type TestOAuthServer,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from './support/siblings.ts';

type Did = Parameters<typeof signIn>[2];

// the README's setup, in one process: both stores and the lock on one ioredis client. the
// prefixes get a unique root here, so parallel runs on one Redis (CI's) never meet.
describe('the documented Redis setup', () => {
	let redisServer: TestRedis;
	let redis: Redis;
	let server: TestOAuthServer;
	const root = uniquePrefix('readme');

	beforeAll(async () => {
		redisServer = await useTestRedis();
		redis = connect(redisServer.url);
		server = await startTestOAuthServer();
	});
	// optional: when a start failed there is less to stop, and no TypeError on top of that failure
	afterAll(async () => {
		if (redis !== undefined) await removeKeys(redis, root);
		await redis?.quit();
		await server?.close();
		await redisServer?.close();
	});

	it('signs in, restores, refreshes and signs out with sessions, states and the lock in Redis', async () => {
		const sessions = new RedisStore<Did, StoredSession>({ redis, prefix: `${root}oauth:session:` });
		const { client } = await createTestClient(server, {
			stores: {
				sessions,
				states: new RedisStore({ redis, prefix: `${root}oauth:state:` }),
			},
			requestLock: createRedisLock({ redis, prefix: `${root}oauth-lock:` }),
		});
		const did = server.createAccount({ handle: 'readme.test' }).did as Did;

		const { session } = await signIn(server, client, did);
		// the state was taken (GETDEL) by the callback; the session is in Redis, without a TTL
		expect(await keysUnder(redis, `${root}oauth:state:`)).toEqual([]);
		expect(await redis.pttl(`${root}oauth:session:${did}`)).toBe(-1);

		const restored = await client.restore(did, { refresh: true });
		expect(restored.did).toBe(did);
		expect(server.stats.token.refresh_token).toBe(1);
		expect((await sessions.get(did))!.tokenSet.refresh_token).toBe(server.sessions(did).at(-1)!.refreshToken);
		// the lease was released
		expect(await keysUnder(redis, `${root}oauth-lock:`)).toEqual([]);

		await session.signOut();
		expect(await sessions.get(did)).toBeUndefined();
		expect(server.sessions(did).at(-1)!.active).toBe(false);
		server.assertNoRejections();
	});
});
