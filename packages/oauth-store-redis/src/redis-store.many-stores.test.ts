import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import { RedisStore } from './redis-store.ts';

/** the process's record of Redis key spaces (see @atcute-oauth/internal/redis-keyspaces), by server. */
const keyspaces = (): Map<string, unknown> =>
	(globalThis as Record<symbol, unknown>)[Symbol.for('@atcute/oauth/redis-keyspaces@2')] as Map<
		string,
		unknown
	>;

describe('RedisStore made per request', () => {
	it('keeps one record of a key space however many stores are made over it', async () => {
		// never connects: the record is made when the store is
		const redis = new Redis({ lazyConnect: true, autoResendUnfulfilledCommands: false });
		try {
			const stores: RedisStore[] = [];
			for (let i = 0; i < 1_000; i++) {
				stores.push(new RedisStore({ redis, prefix: 'many-stores:session:' }));
				// one store per request: each made in a turn of its own, as a server makes them
				await new Promise((resolve) => setImmediate(resolve));
			}
			// one record for the key space, not one per store: every store made went through them all
			// (10,000 stores took 14 s, 16,000 took 55 s, until a full GC let the collected ones go)
			const records = keyspaces().get('localhost:6379/0');
			expect(records).toBeInstanceOf(Map);
			expect((records as Map<string, unknown>).size).toBe(1);
			expect(stores).toHaveLength(1_000);
		} finally {
			redis.disconnect();
		}
	});
});
