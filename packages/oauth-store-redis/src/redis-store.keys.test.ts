import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RedisStore } from './redis-store.ts';
import {
	connect,
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from './test-utils/redis-server.ts';

describe('RedisStore keys UTF-8 cannot hold', () => {
	let server: TestRedis;
	let redis: Redis;
	let prefix: string;

	beforeAll(async () => {
		server = await useTestRedis();
		redis = connect(server.url);
		prefix = uniquePrefix('surrogates');
	});
	afterAll(async () => {
		await removeKeys(redis, prefix);
		await redis?.quit();
		await server?.close();
	});

	it('never lets two keys with lone surrogates share an entry', async () => {
		const store = new RedisStore<string, string>({ redis, prefix });
		await expect(store.set('\ud800', 'high')).rejects.toThrow(/lone surrogate/);
		await store.set('\ufffd', 'replacement character');
		// each would reach Redis as U+FFFD, the key above
		expect(await store.get('\udc00')).toBeUndefined();
		expect(await store.take('\ud800')).toBeUndefined();
		await store.delete('\udfff');
		expect(await store.get('\ufffd')).toBe('replacement character');
		// a well-formed pair is a key like any other
		await store.set('\ud83d\ude00', 'emoji');
		expect(await store.get('\ud83d\ude00')).toBe('emoji');
	});
});
