import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { RedisStoreError } from './errors.ts';
import { RedisStore } from './redis-store.ts';
import {
	connect,
	connect6,
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from './test-utils/redis-server.ts';

// an app may hand the store the client it keeps for pub/sub or MONITOR: ioredis then refuses every
// command of the store's at once, or (MONITOR) never reports the client ready. either is the app's
// configuration, not an outage: it must hear so at once, not "try again later" at each timeout
describe('RedisStore on a client kept for pub/sub or MONITOR', () => {
	let server: TestRedis;
	let prefix: string;
	const clients: Redis[] = [];
	const track = (redis: Redis): Redis => {
		clients.push(redis);
		return redis;
	};

	beforeAll(async () => {
		server = await useTestRedis();
		prefix = uniquePrefix('client-mode');
	});
	afterEach(() => {
		for (const redis of clients.splice(0)) redis.disconnect();
	});
	afterAll(async () => {
		const cleaner = connect(server.url);
		await removeKeys(cleaner, prefix);
		await cleaner.quit();
		await server?.close();
	});

	/** every operation's outcome on `redis`, with a timeout no test waits for. */
	const outcomesOn = async (redis: Redis): Promise<unknown[]> => {
		const store = new RedisStore({ redis, prefix, timeout: 60_000 });
		const outcomes: unknown[] = [];
		for (const run of [
			() => store.get('did:plc:a'),
			() => store.set('did:plc:a', { a: 1 }),
			() => store.delete('did:plc:a'),
			() => store.take('did:plc:a'),
			() => store.clear(),
		]) {
			outcomes.push(
				await run().then(
					(value) => ({ resolved: value }),
					(err: unknown) => err,
				),
			);
		}
		return outcomes;
	};

	const subscribers: [string, (url: string) => Redis][] = [
		['ioredis 5', (url) => connect(url)],
		['ioredis 6 with protocol 2', (url) => connect6(url, { protocol: 2 })],
	];
	for (const [label, make] of subscribers) {
		it(`fails every operation at once, not transient, naming subscriber mode (${label})`, async () => {
			const redis = track(make(server.url));
			await redis.subscribe(`${prefix}channel`);
			for (const outcome of await outcomesOn(redis)) {
				expect(outcome).toBeInstanceOf(RedisStoreError);
				expect(outcome).toMatchObject({ code: 'client_mode', transient: false });
				expect((outcome as Error).message).toMatch(/subscriber mode \(subscribe\(\)/);
			}
		});
	}

	it('works on a RESP3 client in subscriber mode (ioredis 6), which may send any command', async () => {
		const redis = track(connect6(server.url));
		await redis.subscribe(`${prefix}channel`);
		const store = new RedisStore<string, { a: number }>({ redis, prefix, timeout: 5_000 });
		await store.set('did:plc:b', { a: 2 });
		expect(await store.get('did:plc:b')).toEqual({ a: 2 });
	});

	for (const [label, make] of [
		['ioredis 5', connect],
		['ioredis 6', connect6],
	] as const) {
		it(`fails every operation at once, not transient, on a client from monitor() (${label})`, async () => {
			const monitor = track(await track(make(server.url)).monitor());
			expect(monitor.status).toBe('monitoring');
			for (const outcome of await outcomesOn(monitor)) {
				expect(outcome).toBeInstanceOf(RedisStoreError);
				expect(outcome).toMatchObject({ code: 'client_mode', transient: false });
				expect((outcome as Error).message).toMatch(/MONITOR mode/);
			}
		});
	}

	it('fails an operation sent while a monitor client is still connecting, not at its timeout', async () => {
		const redis = track(connect(server.url, { monitor: true }));
		const store = new RedisStore({ redis, prefix, timeout: 60_000 });
		const outcome = await store.get('did:plc:a').then(
			(value) => ({ resolved: value }),
			(err: unknown) => err,
		);
		expect(outcome).toBeInstanceOf(RedisStoreError);
		expect(outcome).toMatchObject({ code: 'client_mode', transient: false });
	});
});
