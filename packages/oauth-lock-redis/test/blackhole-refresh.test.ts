import type { StoredSession } from '@atcute/oauth-client';
import { type BlackholeProxy, startBlackholeProxy } from '@atcute-oauth/internal/test-utils/blackhole-proxy';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createRedisLock } from '../src/index.ts';
import {
	connect,
	createTestClient,
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

// the whole client, sessions and lock in Redis: the network to Redis goes silent (a NAT or firewall
// dropping the connection, a failover whose old address stops answering) right after the refresh
// token went out. the new tokens cannot be had again: they must be stored, not lost.
describe('a refresh whose Redis connection went silent after the token request was sent', () => {
	let redis: TestRedis;
	let admin: Redis;
	let proxy: BlackholeProxy;
	let server: TestOAuthServer;
	const root = uniquePrefix('blackhole-refresh');

	beforeAll(async () => {
		redis = await useTestRedis();
		admin = connect(redis.url);
		proxy = await startBlackholeProxy(Number(new URL(redis.url).port));
		server = await startTestOAuthServer();
	}, 180_000);
	afterAll(async () => {
		if (admin !== undefined) await removeKeys(admin, root);
		await admin?.quit();
		await proxy?.close();
		await server?.close();
		await redis?.close();
	});

	it('stores the new tokens over a new connection, and keeps no spent refresh token', async () => {
		const client = connect(`redis://${proxy.host}:${proxy.port}`, { retryStrategy: () => 50 });
		try {
			const sessions = new RedisStore<Did, StoredSession>({
				redis: client,
				prefix: `${root}session:`,
				timeout: 300,
			});
			let silenceNext = false;
			const { client: oauth } = await createTestClient(server, {
				stores: {
					sessions,
					states: new RedisStore({ redis: client, prefix: `${root}state:`, timeout: 300 }),
				},
				requestLock: createRedisLock({ redis: client, prefix: `${root}lock:`, timeout: 300 }),
				fetch: async (input, init) => {
					const response = await fetch(input, init);
					// the token endpoint answered: the refresh token is spent, and Redis goes silent
					if (
						silenceNext &&
						new URL(input instanceof Request ? input.url : input).pathname === '/oauth/token'
					) {
						silenceNext = false;
						proxy.blackhole();
					}
					return response;
				},
			});
			const did = server.createAccount({ handle: 'blackhole.test' }).did as Did;
			await signIn(server, oauth, did);

			silenceNext = true;
			await oauth.restore(did, { refresh: true });
			expect(silenceNext).toBe(false);

			// what the server holds as the live refresh token is what is stored
			const live = server.sessions(did).at(-1)!;
			expect(live.active).toBe(true);
			const stored = JSON.parse((await admin.get(`${root}session:${did}`))!) as StoredSession;
			expect(stored.tokenSet.refresh_token).toBe(live.refreshToken);
			expect(live.refreshes).toBe(1);
		} finally {
			client.disconnect();
			await proxy.restore();
		}
	}, 30_000);
});
