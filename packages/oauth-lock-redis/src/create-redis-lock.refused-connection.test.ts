import { LockUnavailableError } from '@atcute/oauth-client';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
	connect,
	type SpawnedRedis,
	spawnRedisServer,
	uniquePrefix,
} from '../../oauth-store-redis/src/test-utils/redis-server.ts';
import { createRedisLock } from './create-redis-lock.ts';

// a server of our own, even in CI: this test adds an ACL user to it
describe('createRedisLock when Redis refuses the connection itself', () => {
	let server: SpawnedRedis;
	let admin: Redis;
	const clients: Redis[] = [];

	beforeAll(async () => {
		server = await spawnRedisServer();
		admin = connect(server.url);
	});
	afterEach(() => {
		for (const redis of clients.splice(0)) redis.disconnect();
	});
	afterAll(async () => {
		admin?.disconnect();
		await server?.close();
	});

	// ioredis reconnects for ever on a wrong password: an outage-like transient error would have
	// the app retry a deployment mistake for ever, and never say which
	it('fails to acquire with a non-transient LockUnavailableError naming WRONGPASS, and runs nothing', async () => {
		const username = `lock-${globalThis.crypto.randomUUID()}`;
		await admin.acl('SETUSER', username, 'on', '>right', '~*', '+@all');
		const redis = connect(server.url, { username, password: 'wrong' });
		clients.push(redis);
		const lock = createRedisLock({ redis, prefix: uniquePrefix('lock-refused'), waitMs: 0, timeout: 1_500 });
		let ran = false;

		const failure = await lock('oauth-session-did:plc:a', async () => {
			ran = true;
		}).catch((err: unknown) => err);

		expect(ran).toBe(false);
		expect(failure).toBeInstanceOf(LockUnavailableError);
		expect(failure).toMatchObject({ transient: false });
		expect((failure as Error).message).toMatch(/WRONGPASS/);
	});
});
