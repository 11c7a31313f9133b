import { type BlackholeProxy, startBlackholeProxy } from '@atcute-oauth/internal/test-utils/blackhole-proxy';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from './errors.ts';
import { RedisStore } from './redis-store.ts';
import {
	connect,
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from './test-utils/redis-server.ts';

const ready = (redis: Redis): Promise<void> =>
	redis.status === 'ready'
		? Promise.resolve()
		: new Promise((resolve) => redis.once('ready', () => resolve()));

// a network path that goes silent (a NAT or firewall dropping the connection, a failover whose
// old address stops answering): no FIN, no RST, the socket stays "established" for many minutes
describe('RedisStore over a connection whose network went silent', () => {
	let server: TestRedis;
	let observer: Redis;
	let proxy: BlackholeProxy;
	let prefix: string;

	beforeAll(async () => {
		server = await useTestRedis();
		observer = connect(server.url);
		const port = Number(new URL(server.url).port);
		proxy = await startBlackholeProxy(port);
		prefix = uniquePrefix('blackhole');
	});
	afterAll(async () => {
		await removeKeys(observer, prefix);
		await observer?.quit();
		await proxy?.close();
		await server?.close();
	});

	const viaProxy = (): Redis => connect(`redis://${proxy.host}:${proxy.port}`, { retryStrategy: () => 50 });

	it('never lets a write it reported as failed land after a newer one once the network is back', async () => {
		const redis = viaProxy();
		try {
			const store = new RedisStore<string, string>({ redis, prefix, timeout: 300 });
			await store.set('session', 'refresh token 1');
			proxy.blackhole();
			const failed = await store.set('session', 'refresh token 2').catch((err: unknown) => err);
			expect(failed).toBeInstanceOf(StoreUnavailableError);
			expect((failed as StoreUnavailableError).transient).toBe(true);
			// another process, on a path that works, writes what came after
			await observer.set(`${prefix}session`, JSON.stringify('refresh token 3'));
			await proxy.restore();

			// the store's own connection serves it again, and what it reported as failed never ran
			await ready(redis);
			await redis.ping();
			expect(JSON.parse((await observer.get(`${prefix}session`))!)).toBe('refresh token 3');
			expect(await store.get('session')).toBe('refresh token 3');
		} finally {
			redis.disconnect();
			await proxy.restore();
		}
	});

	it('never uses up later a state whose take it reported as failed: the retried take gets it, once', async () => {
		const redis = viaProxy();
		try {
			const store = new RedisStore<string, string>({ redis, prefix, timeout: 300 });
			await store.set('state', 'pkce verifier');
			proxy.blackhole();
			const failed = await store.take('state').catch((err: unknown) => err);
			expect(failed).toBeInstanceOf(StoreUnavailableError);
			await proxy.restore();

			// the callback, tried again, completes the sign-in; a replayed GETDEL would have taken it
			await ready(redis);
			await redis.ping();
			expect(await store.take('state')).toBe('pkce verifier');
			expect(await store.take('state')).toBeUndefined();
		} finally {
			redis.disconnect();
			await proxy.restore();
		}
	});

	it('recovers by itself, on a new connection, while the silent one is never heard of again', async () => {
		const redis = viaProxy();
		try {
			const store = new RedisStore<string, string>({ redis, prefix, timeout: 300 });
			await store.set('kept', 'value');
			// the old path stays silent for good; a new connection gets through (a failover's new address)
			proxy.blackhole();
			const failed = await store.get('kept').catch((err: unknown) => err);
			expect(failed).toBeInstanceOf(StoreUnavailableError);
			await ready(redis);
			expect(await store.get('kept')).toBe('value');
		} finally {
			redis.disconnect();
			await proxy.restore();
		}
	});
});
