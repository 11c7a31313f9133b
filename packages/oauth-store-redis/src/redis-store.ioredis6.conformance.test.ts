// the conformance suite again on ioredis 6, the other major the peer range takes
import { describeStore } from '@atcute-oauth/store-conformance';
import type { Redis } from 'ioredis';
import { Redis as Redis6 } from 'ioredis6';
import { afterAll, beforeAll } from 'vitest';

import { RedisStore } from './redis-store.ts';
import { removeKeys, type TestRedis, uniquePrefix, useTestRedis } from './test-utils/redis-server.ts';

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

describeStore(
	'RedisStore on ioredis 6',
	async () => {
		const prefix = uniquePrefix('conformance6');
		const first = connect6(server.url);
		const opened: Redis[] = [first];
		return {
			store: new RedisStore({ redis: first, prefix }),
			// another connection is what another process would have
			reopen: async () => {
				const second = connect6(server.url);
				opened.push(second);
				return new RedisStore({ redis: second, prefix });
			},
			cleanup: async () => {
				await removeKeys(first, prefix);
				await Promise.all(opened.map((redis) => redis.quit()));
			},
		};
	},
	{ atomicTake: true, expiry: true },
);
