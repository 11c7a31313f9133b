import { describeLock } from '@atcute-oauth/store-conformance';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

import {
	IOREDIS_MAJORS,
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

for (const [major, connectTo] of IOREDIS_MAJORS) {
	describeLock(`createRedisLock on ${major}`, async () => {
		const prefix = uniquePrefix(`lock-conformance-${major}`);
		// the suite wants an acquire bound of a second or so, and quick turns between short holders
		const options = (redis: Redis): RedisLockOptions => ({
			redis,
			prefix,
			waitMs: 1_000,
			retryDelay: 5,
			maxRetryDelay: 50,
		});
		const first = connectTo(server.url);
		const opened: Redis[] = [first];
		return {
			lock: createRedisLock(options(first)),
			// another connection is what another process would have
			other: async () => {
				const second = connectTo(server.url);
				opened.push(second);
				return createRedisLock(options(second));
			},
			cleanup: async () => {
				await removeKeys(first, prefix);
				await Promise.all(opened.map((redis) => redis.quit()));
			},
		};
	});
}
