import { LockUnavailableError } from '@atcute/oauth-client';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
	connect,
	connect6,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from '../../oauth-store-redis/src/test-utils/redis-server.ts';
import { createRedisLock } from './create-redis-lock.ts';

// the client an app keeps for pub/sub or MONITOR sends none of the lock's commands: acquiring must
// say so at once and for good, not as an outage at the end of each wait
describe('createRedisLock on a client kept for pub/sub or MONITOR', () => {
	let server: TestRedis;
	const clients: Redis[] = [];
	const track = (redis: Redis): Redis => {
		clients.push(redis);
		return redis;
	};

	beforeAll(async () => {
		server = await useTestRedis();
	});
	afterEach(() => {
		for (const redis of clients.splice(0)) redis.disconnect();
	});
	afterAll(() => server?.close());

	/** the outcome of acquiring on `redis`, with waits no test waits out, and whether fn ran. */
	const acquireOn = async (redis: Redis): Promise<{ outcome: unknown; ran: boolean }> => {
		const lock = createRedisLock({
			redis,
			prefix: uniquePrefix('client-mode'),
			timeout: 60_000,
			waitMs: 60_000,
		});
		let ran = false;
		const outcome = await lock('a', async () => {
			ran = true;
		}).then(
			(value) => ({ resolved: value }),
			(err: unknown) => err,
		);
		return { outcome, ran };
	};

	for (const [label, make] of [
		['ioredis 5', (url: string) => connect(url)],
		['ioredis 6 with protocol 2', (url: string) => connect6(url, { protocol: 2 })],
	] as const) {
		it(`refuses at once, not transient, in subscriber mode (${label})`, async () => {
			const redis = track(make(server.url));
			await redis.subscribe(uniquePrefix('channel'));
			const { outcome, ran } = await acquireOn(redis);
			expect(outcome).toBeInstanceOf(LockUnavailableError);
			expect(outcome).toMatchObject({ lockName: 'a', transient: false });
			expect((outcome as Error).message).toMatch(/^lock "a" could not be acquired: .*subscriber mode/);
			expect(ran).toBe(false);
		});
	}

	it('refuses at once, not transient, on a client from monitor()', async () => {
		const monitor = track(await track(connect(server.url)).monitor());
		const { outcome, ran } = await acquireOn(monitor);
		expect(outcome).toBeInstanceOf(LockUnavailableError);
		expect(outcome).toMatchObject({ lockName: 'a', transient: false });
		expect((outcome as Error).message).toMatch(/MONITOR mode/);
		expect(ran).toBe(false);
	});
});
