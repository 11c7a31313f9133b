import { describeStore } from '@atcute-oauth/store-conformance';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

import { RedisStore } from './redis-store.ts';
import {
	IOREDIS_MAJORS,
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from './test-utils/redis-server.ts';

let server: TestRedis;
beforeAll(async () => {
	server = await useTestRedis();
});
// optional: when the start failed there is nothing to stop, and no TypeError on top of that failure
afterAll(() => server?.close());

for (const [major, connectTo] of IOREDIS_MAJORS) {
	describeStore(
		`RedisStore on ${major}`,
		async () => {
			const prefix = uniquePrefix(`conformance-${major}`);
			const first = connectTo(server.url);
			const opened: Redis[] = [first];
			return {
				store: new RedisStore({ redis: first, prefix }),
				// another connection is what another process would have
				reopen: async () => {
					const second = connectTo(server.url);
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
}
