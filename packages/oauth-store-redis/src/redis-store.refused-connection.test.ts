import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { RedisStoreError } from './errors.ts';
import { RedisStore } from './redis-store.ts';
import {
	connect,
	IOREDIS_MAJORS,
	type SpawnedRedis,
	spawnRedisServer,
	uniquePrefix,
} from './test-utils/redis-server.ts';

// a server of our own, even in CI: these tests add ACL users to it
describe('RedisStore when Redis refuses the connection itself', () => {
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

	for (const [major, connectWith] of IOREDIS_MAJORS) {
		// a wrong password (or a disabled ACL user) is a deployment mistake: ioredis reconnects for
		// ever, and an outage-like "not connected" would have the app retry it for ever too
		it(`fails with a typed refusal naming Redis's answer, not a passing outage, when the password is wrong (${major})`, async () => {
			const username = `store-${globalThis.crypto.randomUUID()}`;
			await admin.acl('SETUSER', username, 'on', '>right', '~*', '+@all');
			const url = new URL(server.url);
			url.username = username;
			url.password = 'wrong';
			const redis = connectWith(url.toString());
			clients.push(redis);
			const store = new RedisStore({ redis, prefix: uniquePrefix('refused'), timeout: 1_500 });

			const failure = await store.get('did:plc:a').catch((err: unknown) => err);

			expect(failure).toBeInstanceOf(RedisStoreError);
			expect(failure).toMatchObject({ code: 'rejected', operation: 'get', transient: false });
			expect((failure as Error).message).toMatch(/WRONGPASS/);
			expect((failure as Error).cause).toMatchObject({ name: 'ReplyError' });
		});
	}
});
