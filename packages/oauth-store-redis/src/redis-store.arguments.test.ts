import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { RedisStore } from './redis-store.ts';
import {
	connect,
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from './test-utils/redis-server.ts';

/** the largest time a Date can hold, in milliseconds since the epoch. */
const MAX_DATE = 8.64e15;

describe('RedisStore arguments', () => {
	let server: TestRedis;
	let redis: Redis;
	let prefix: string;

	beforeAll(async () => {
		server = await useTestRedis();
		redis = connect(server.url);
		prefix = uniquePrefix('arguments');
	});
	afterEach(() => removeKeys(redis, prefix));
	afterAll(async () => {
		await redis?.quit();
		await server?.close();
	});

	const keyError = expect.objectContaining({
		name: 'TypeError',
		message: expect.stringMatching(/key must be a string, got (number|undefined|object)/),
	});

	it('warns once per client that re-sends failed commands after reconnecting (ioredis default)', () => {
		const warnings: string[] = [];
		const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((
			warning: string,
			options?: { code?: string },
		) => {
			warnings.push(`${options?.code}: ${warning}`);
		}) as typeof process.emitWarning);
		try {
			// ioredis's defaults; never connected
			const resending = connect(server.url, { autoResendUnfulfilledCommands: true, lazyConnect: true });
			new RedisStore({ redis: resending, prefix: 'oauth:session:' });
			new RedisStore({ redis: resending, prefix: 'oauth:state:' });
			expect(warnings).toHaveLength(1);
			expect(warnings[0]).toMatch(/^ATCUTE_OAUTH_REDIS_RESEND: .*autoResendUnfulfilledCommands: false/);
			// the client the README asks for
			new RedisStore({ redis, prefix });
			expect(warnings).toHaveLength(1);
			resending.disconnect();
		} finally {
			spy.mockRestore();
		}
	});

	// a dev server's hot reload (or a test runner's module reset) evaluates the package again, and the
	// app keeps its one client across reloads (`globalThis.redis ??= new Redis()`, as Next.js apps
	// do): the clients already warned about were noted per module instance, and each reload warned again
	it('warns once per client across module reloads', async () => {
		const warnings: string[] = [];
		const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((warning: string) => {
			warnings.push(warning);
		}) as typeof process.emitWarning);
		const resending = connect(server.url, { autoResendUnfulfilledCommands: true, lazyConnect: true });
		try {
			for (let reload = 0; reload < 3; reload++) {
				vi.resetModules();
				const fresh = await import('./redis-store.ts');
				expect(fresh.RedisStore).not.toBe(RedisStore);
				new fresh.RedisStore({ redis: resending, prefix: 'oauth:session:' });
			}
			expect(warnings).toHaveLength(1);
		} finally {
			spy.mockRestore();
			resending.disconnect();
		}
	});

	it('refuses a ttl Redis would refuse on every set, with a TypeError naming it', () => {
		for (const ttl of [2 ** 63, 1e21, Number.MAX_SAFE_INTEGER + 1]) {
			expect(() => new RedisStore({ redis, prefix, ttl })).toThrow(
				/ttl must be a positive integer .* up to 9007199254740991/,
			);
		}
		expect(() => new RedisStore({ redis, prefix, ttl: Number.MAX_SAFE_INTEGER })).not.toThrow();
	});

	it('refuses a key that is not a string with a TypeError in get, take and delete, as in set', async () => {
		const store = new RedisStore({ redis, prefix });
		for (const key of [123, undefined, {}]) {
			for (const run of [
				() => store.get(key as never),
				() => store.take(key as never),
				() => store.delete(key as never),
				() => store.set(key as never, 1),
			]) {
				await expect(run()).rejects.toEqual(keyError);
			}
		}
	});

	it('refuses such a key before sending anything: a client not yet connected stays so', async () => {
		// lazyConnect: the client connects on its first command only
		const lazy = connect(server.url, { lazyConnect: true });
		try {
			const store = new RedisStore({ redis: lazy, prefix, timeout: 300 });
			await expect(store.get(1 as never)).rejects.toEqual(keyError);
			await expect(store.take(1 as never)).rejects.toEqual(keyError);
			await expect(store.delete(1 as never)).rejects.toEqual(keyError);
			expect(lazy.status).toBe('wait');
		} finally {
			lazy.disconnect();
		}
	});

	it.each([1e300, 1e16, MAX_DATE + 1, -1e16, 2 ** 63])(
		'refuses expiresAt %s (beyond any Date) with a TypeError naming it, writing nothing',
		async (expiresAt) => {
			const store = new RedisStore({ redis, prefix });
			await expect(store.set('a', 1, { expiresAt })).rejects.toEqual(
				expect.objectContaining({ name: 'TypeError', message: expect.stringContaining(String(expiresAt)) }),
			);
			expect(await redis.exists(`${prefix}a`)).toBe(0);
		},
	);

	it('keeps an entry set with the largest expiresAt a Date holds, and drops one set with the smallest', async () => {
		const store = new RedisStore({ redis, prefix });
		await store.set('far', 1, { expiresAt: MAX_DATE });
		expect(await store.get('far')).toBe(1);
		expect(await redis.pttl(`${prefix}far`)).toBeGreaterThan(MAX_DATE - Date.now() - 60_000);
		await store.set('far', 2, { expiresAt: -MAX_DATE });
		expect(await store.get('far')).toBeUndefined();
	});
});
