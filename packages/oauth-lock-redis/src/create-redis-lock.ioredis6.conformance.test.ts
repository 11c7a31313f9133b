// the conformance suite again on ioredis 6, the other major the peer range takes
import { describeLock } from '@atcute-oauth/store-conformance';
import type { Redis } from 'ioredis';
import { Redis as Redis6 } from 'ioredis6';
import { afterAll, beforeAll } from 'vitest';

import {
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from '../../oauth-store-redis/src/test-utils/redis-server.ts';
import { createRedisLock, type RedisLockOptions } from './create-redis-lock.ts';

let server: TestRedis;
beforeAll(async () => {
	server = await useTestRedis();
});
// optional: when the start failed there is nothing to stop, and no TypeError on top of that failure
afterAll(() => server?.close());

/** an ioredis 6 connection, seen through the ioredis 5 types the package is built against. */
const connect6 = (url: string): Redis => {
	const redis = new Redis6(url, { autoResendUnfulfilledCommands: false });
	redis.on('error', () => {});
	return redis as unknown as Redis;
};

describeLock('createRedisLock on ioredis 6', async () => {
	const prefix = uniquePrefix('lock-conformance6');
	const options = (redis: Redis): RedisLockOptions => ({
		redis,
		prefix,
		waitMs: 1_000,
		retryDelay: 5,
		maxRetryDelay: 50,
	});
	const first = connect6(server.url);
	const opened: Redis[] = [first];
	return {
		lock: createRedisLock(options(first)),
		other: async () => {
			const second = connect6(server.url);
			opened.push(second);
			return createRedisLock(options(second));
		},
		cleanup: async () => {
			await removeKeys(first, prefix);
			await Promise.all(opened.map((redis) => redis.quit()));
		},
	};
});
