import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { RedisStore } from './redis-store.ts';
import {
	connect,
	keysUnder,
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from './test-utils/redis-server.ts';

// two stores on one Redis whose prefixes nest (`oauth:` for sessions, `oauth:state:` for states):
// every key of the inner one is a key of the outer one too, and clear() of the outer removes both
describe('RedisStore.clear() beside a store whose prefix it starts', () => {
	let server: TestRedis;
	let redis: Redis;
	let root: string;

	beforeAll(async () => {
		server = await useTestRedis();
		redis = connect(server.url);
	});
	// a root of its own for each test: the stores of an earlier test are still about
	beforeEach(() => {
		root = uniquePrefix('overlap');
	});
	afterEach(() => removeKeys(redis, root));
	afterAll(async () => {
		await redis?.quit();
		await server?.close();
	});

	it('refuses, deleting nothing, when another store of this process on the same server has keys under its prefix', async () => {
		const sessions = new RedisStore({ redis, prefix: `${root}oauth:` });
		// the states' store on a client of its own (redis.duplicate()): the same server all the same
		const other = redis.duplicate();
		try {
			const states = new RedisStore({ redis: other, prefix: `${root}oauth:state:` });
			await sessions.set('did:plc:alice', { session: 1 });
			await states.set('abc', { state: 1 });

			await expect(sessions.clear()).rejects.toThrow(TypeError);
			await expect(sessions.clear()).rejects.toThrow(/oauth:state:/);
			expect(await states.get('abc')).toEqual({ state: 1 });
			expect(await sessions.get('did:plc:alice')).toEqual({ session: 1 });

			// the inner store clears its own, and the outer's keys stay
			await states.clear();
			expect(await keysUnder(redis, root)).toEqual([`${root}oauth:did:plc:alice`]);
		} finally {
			await other.quit();
		}
	});

	it('clears as before beside stores of the same prefix or of prefixes apart', async () => {
		const sessions = new RedisStore({ redis, prefix: `${root}oauth:session:` });
		// a second store object over the same data (a second client), and the states apart
		const again = new RedisStore({ redis, prefix: `${root}oauth:session:` });
		const states = new RedisStore({ redis, prefix: `${root}oauth:state:` });
		await again.set('did:plc:alice', 1);
		await states.set('abc', 2);
		await sessions.clear();
		expect(await keysUnder(redis, root)).toEqual([`${root}oauth:state:abc`]);
	});

	it('clears beside a store of the same prefix on another database of the server', async () => {
		const db1 = connect(server.url, { db: 1 });
		try {
			const states = new RedisStore({ redis: db1, prefix: `${root}oauth:state:` });
			const sessions = new RedisStore({ redis, prefix: `${root}oauth:` });
			await sessions.set('did:plc:alice', 1);
			await sessions.clear();
			expect(await keysUnder(redis, root)).toEqual([]);
			// still in use here, so the clear() above met it registered (not collected before it)
			expect(await states.get('abc')).toBeUndefined();
		} finally {
			await db1.quit();
		}
	});
});
