import { RedisStore } from '@atcute/oauth-store-redis';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
	connect,
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from '../../oauth-store-redis/src/test-utils/redis-server.ts';
import { createRedisLock } from './create-redis-lock.ts';

const DID = 'did:plc:alice';

// a Redis store and the Redis lock on one server: the lock's leases are keys too, `prefix` + name,
// and the OAuth client names each session's lock `oauth-session-<did>`
describe('createRedisLock beside a RedisStore on the same server', () => {
	let server: TestRedis;
	let redis: Redis;
	let root: string;

	beforeAll(async () => {
		server = await useTestRedis();
		redis = connect(server.url);
	});
	// a root of its own for each test: the stores and locks of an earlier test are still about
	beforeEach(() => {
		root = uniquePrefix('lock-store');
	});
	afterEach(() => removeKeys(redis, root));
	afterAll(async () => {
		await redis?.quit();
		await server?.close();
	});

	it("keeps a held lease when clear() of a store whose prefix starts the lock's is refused", async () => {
		// `oauth` for the sessions, the lock at its default-like `oauth-lock:`: every lease is under `oauth`
		const sessions = new RedisStore({ redis, prefix: `${root}oauth` });
		const lock = createRedisLock({ redis, prefix: `${root}oauth-lock:` });
		await sessions.set(`:session:${DID}`, { session: 1 });

		const lease = `${root}oauth-lock:oauth-session-${DID}`;
		await lock(`oauth-session-${DID}`, async () => {
			const cleared = await sessions.clear().catch((err: unknown) => err);
			// the lease is still there: no other process can take the name while this one refreshes
			expect(await redis.exists(lease)).toBe(1);
			expect(cleared).toBeInstanceOf(TypeError);
			expect((cleared as Error).message).toContain(`a lock with prefix "${root}oauth-lock:"`);
		});
		expect(await sessions.get(`:session:${DID}`)).toEqual({ session: 1 });
	});

	it('refuses a store that would keep its sessions under the keys of the session locks, made after the lock', () => {
		// a lock with no prefix of its own: its leases are `oauth-session-<did>` (under the root here)
		createRedisLock({ redis, prefix: root });
		expect(() => new RedisStore({ redis, prefix: `${root}oauth-session-` })).toThrow(TypeError);
		expect(() => new RedisStore({ redis, prefix: `${root}oauth-session-did:` })).toThrow(TypeError);
		// one whose keys go on past the session locks' name with anything but a DID never meets them
		expect(() => new RedisStore({ redis, prefix: `${root}oauth-session-v2:` })).not.toThrow();
	});

	it('refuses a lock whose session locks would be the keys of a store made before it', async () => {
		const sessions = new RedisStore({ redis, prefix: `${root}oauth-session-` });
		// a client of its own, on the same server
		const other = redis.duplicate({ lazyConnect: true });
		expect(() => createRedisLock({ redis: other, prefix: root })).toThrow(/oauth-session-/);
		other.disconnect();
		// what it prevents: the session is written over the lease its sign-in holds
		await sessions.set(DID, { session: 1 });
		expect(await redis.get(`${root}oauth-session-${DID}`)).toBe(JSON.stringify({ session: 1 }));
	});

	it('takes a store and a lock whose prefixes are apart, either one first', async () => {
		const lock = createRedisLock({ redis, prefix: `${root}oauth-lock:` });
		const sessions = new RedisStore({ redis, prefix: `${root}oauth:session:` });
		const states = new RedisStore({ redis, prefix: `${root}oauth:state:` });
		await sessions.set(DID, 1);
		await states.set('abc', 2);
		await lock(`oauth-session-${DID}`, async () => {
			await sessions.clear();
			await states.clear();
		});
		expect(await sessions.get(DID)).toBeUndefined();
	});
});
