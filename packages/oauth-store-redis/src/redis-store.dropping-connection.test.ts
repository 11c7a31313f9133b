import type { Socket } from 'node:net';

import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StoreUnavailableError } from './errors.ts';
import { RedisStore } from './redis-store.ts';
import {
	connect,
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from './test-utils/redis-server.ts';

describe('RedisStore on a connection that is dropping', () => {
	let server: TestRedis;
	let observer: Redis;
	let prefix: string;

	beforeAll(async () => {
		server = await useTestRedis();
		observer = connect(server.url);
		prefix = uniquePrefix('dropping');
	});
	afterAll(async () => {
		await removeKeys(observer, prefix);
		await observer?.quit();
		await server?.close();
	});

	it('never sends later a write it reported as failed while the socket was closing', async () => {
		// reconnects only after the store has given up on the write
		const redis = connect(server.url, { retryStrategy: () => 400 });
		try {
			const store = new RedisStore<string, string>({ redis, prefix, timeout: 100 });
			await store.set('warm', 'up');
			// the socket closed for writing, the status still "ready" until its close event: a
			// command sent now would wait in ioredis's offline queue and go out on reconnecting
			(redis.stream as Socket).end();
			expect(redis.status).toBe('ready');
			await expect(store.set('late', 'reported as failed')).rejects.toBeInstanceOf(StoreUnavailableError);

			// once the client is back, nothing it held back reaches Redis
			await new Promise<void>((resolve) => redis.once('ready', resolve));
			await redis.ping();
			expect(await observer.get(`${prefix}late`)).toBeNull();
			expect(await store.get('warm')).toBe('up');
		} finally {
			redis.disconnect();
		}
	});

	it('keeps the arguments of a command Redis does not know out of its error', async () => {
		const redis = connect(server.url);
		try {
			// a Redis older than 6.2 has no GETDEL, and quotes the unknown command's arguments
			(redis as unknown as { getdel: (key: string) => Promise<unknown> }).getdel = (key) =>
				redis.call('getdel-before-6.2', key);
			const store = new RedisStore<string, string>({ redis, prefix });
			const error = (await store.take('STATE-secret-123').catch((err: unknown) => err)) as Error;
			expect(error.message).toMatch(/unknown command/);
			const shown = `${error.message} ${String((error.cause as Error | undefined)?.message)} ${JSON.stringify(error)}`;
			expect(shown).not.toContain('STATE-secret-123');
		} finally {
			redis.disconnect();
		}
	});
});
