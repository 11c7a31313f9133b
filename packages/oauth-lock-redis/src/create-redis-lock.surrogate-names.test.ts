import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
	connect,
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from '../../oauth-store-redis/src/test-utils/redis-server.ts';
import { createRedisLock } from './create-redis-lock.ts';

// ioredis sends keys as UTF-8, which has no lone UTF-16 surrogate: each becomes U+FFFD, so names
// that differ only in one (half of two different pairs) were one key, and one held the other
describe('createRedisLock: names with a lone surrogate', () => {
	let server: TestRedis;
	let redis: Redis;
	let prefix: string;

	beforeAll(async () => {
		server = await useTestRedis();
		redis = connect(server.url);
		prefix = uniquePrefix('lock-surrogate');
	});
	afterEach(() => removeKeys(redis, prefix));
	afterAll(async () => {
		await redis?.quit();
		await server?.close();
	});

	it('refuses the name with a TypeError, before any command: two such names never share a lease', async () => {
		const lock = createRedisLock({ redis, prefix, waitMs: 0 });
		const error = await lock('name\ud800', async () => {
			// held, another name tries once: it was "busy" (LockTimeoutError), the key being one
			await lock('name\udbff', async () => {});
		}).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(TypeError);
		expect((error as Error).message).toMatch(/lone UTF-16 surrogate/);
		expect(await redis.keys(`${prefix}*`)).toEqual([]);
	});

	it('takes a name with a whole surrogate pair as before', async () => {
		const lock = createRedisLock({ redis, prefix });
		await lock('name\u{1f600}', async () => {
			expect(await redis.keys(`${prefix}*`)).toEqual([`${prefix}name\u{1f600}`]);
		});
	});
});
