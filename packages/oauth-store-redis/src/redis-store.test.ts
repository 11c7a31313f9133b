import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { RedisStoreError } from './errors.ts';
import { RedisStore } from './redis-store.ts';
import {
	connect,
	keysUnder,
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from './test-utils/redis-server.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('RedisStore', () => {
	let server: TestRedis;
	let redis: Redis;
	// every key this file writes starts with it; removed after each test
	let root: string;

	beforeAll(async () => {
		server = await useTestRedis();
		redis = connect(server.url);
		root = uniquePrefix('store');
	});
	afterEach(() => removeKeys(redis, root));
	// optional: when the start failed there is nothing to stop, and no TypeError on top of that failure
	afterAll(async () => {
		await redis?.quit();
		await server?.close();
	});

	/** the commands another connection sends while `fn` runs, as MONITOR reports them. */
	const monitorCommands = async (fn: () => Promise<void>): Promise<string[][]> => {
		// made by hand rather than with redis.monitor(), so that its error listener is there from the
		// start: MONITOR lines of other clients (the server is shared with other test files) that
		// arrive between MONITOR's OK and ioredis entering monitoring mode, or still in flight when it
		// disconnects, are read as replies to no command, and ioredis reports each as an 'error'
		// event (redis.monitor() rejected with the first). noise here: what this test checks is the
		// list of commands below, all sent once it is monitoring
		const monitor = redis.duplicate({ monitor: true, lazyConnect: true });
		monitor.on('error', () => {});
		const monitoring = new Promise((resolve) => monitor.once('monitoring', resolve));
		await monitor.connect();
		await monitoring;
		const commands: string[][] = [];
		monitor.on('monitor', (_time: string, args: string[]) => {
			if (args.some((arg) => arg.startsWith(root))) commands.push(args);
		});
		try {
			await fn();
			// MONITOR lines arrive asynchronously: a PING from the store's connection marks the end
			await redis.ping();
			await new Promise((resolve) => setTimeout(resolve, 50));
		} finally {
			monitor.disconnect();
		}
		return commands;
	};

	describe('expiry', () => {
		it('sets value and expiry in one SET ... PX command, never SET then EXPIRE', async () => {
			const store = new RedisStore({ redis, prefix: `${root}states:` });
			const commands = await monitorCommands(() =>
				store.set('state-1', { verifier: 'v' }, { expiresAt: Date.now() + 10 * 60 * 1000 }),
			);
			expect(commands).toHaveLength(1);
			const [name, key, value, px, ms] = commands[0]!;
			expect(name?.toLowerCase()).toBe('set');
			expect(key).toBe(`${root}states:state-1`);
			expect(JSON.parse(value!)).toEqual({ verifier: 'v' });
			expect(px?.toUpperCase()).toBe('PX');
			expect(Number(ms)).toBeGreaterThan(10 * 60 * 1000 - 5_000);
		});

		it('gives the key a PTTL matching expiresAt right after set', async () => {
			const store = new RedisStore({ redis, prefix: `${root}states:` });
			await store.set('a', 1, { expiresAt: Date.now() + 600_000 });
			const pttl = await redis.pttl(`${root}states:a`);
			expect(pttl).toBeGreaterThan(600_000 - 5_000);
			expect(pttl).toBeLessThanOrEqual(600_000);
		});

		it('measures expiresAt against its own clock, not the Redis server clock', async () => {
			// an app clock one hour ahead of the server's: the TTL is still expiresAt - now
			const ahead = () => Date.now() + 3_600_000;
			const store = new RedisStore({ redis, prefix: `${root}clock:`, now: ahead });
			await store.set('a', 1, { expiresAt: ahead() + 60_000 });
			const pttl = await redis.pttl(`${root}clock:a`);
			expect(pttl).toBeGreaterThan(55_000);
			expect(pttl).toBeLessThanOrEqual(60_000);
		});

		it('keeps a session set without expiresAt for ever (no TTL), and clears an earlier TTL on re-set', async () => {
			const store = new RedisStore({ redis, prefix: `${root}sessions:` });
			await store.set('did:plc:a', { n: 1 }, { expiresAt: Date.now() + 60_000 });
			expect(await redis.pttl(`${root}sessions:did:plc:a`)).toBeGreaterThan(0);
			await store.set('did:plc:a', { n: 2 });
			// -1: the key exists and has no expiry
			expect(await redis.pttl(`${root}sessions:did:plc:a`)).toBe(-1);
		});

		it('applies the ttl option to entries without expiresAt, and expiresAt when given', async () => {
			const ttl = 200 * DAY_MS;
			const store = new RedisStore({ redis, prefix: `${root}ttl:`, ttl });
			await store.set('plain', 1);
			const plain = await redis.pttl(`${root}ttl:plain`);
			expect(plain).toBeGreaterThan(ttl - 5_000);
			expect(plain).toBeLessThanOrEqual(ttl);

			await store.set('hinted', 2, { expiresAt: Date.now() + 60_000 });
			expect(await redis.pttl(`${root}ttl:hinted`)).toBeLessThanOrEqual(60_000);
		});

		it('removes what was there when set with an expiresAt already past', async () => {
			const store = new RedisStore({ redis, prefix: `${root}past:` });
			await store.set('a', 1);
			await store.set('a', 2, { expiresAt: Date.now() - 1 });
			expect(await redis.exists(`${root}past:a`)).toBe(0);
			expect(await store.get('a')).toBeUndefined();
		});
	});

	describe('keys and values', () => {
		it('stores each value as JSON text under prefix + key, taken literally', async () => {
			const store = new RedisStore({ redis, prefix: `${root}raw:` });
			const keys = ['did:plc:ewvi7nxzyoun6zhxrhs64oiz', 'did:web:a%3Ab', '*', '[a-z]?', 'ü 🦋', '', 'a\nb'];
			for (const [i, key] of keys.entries()) await store.set(key, { i, key });
			for (const [i, key] of keys.entries()) {
				expect(await redis.get(`${root}raw:${key}`)).toBe(JSON.stringify({ i, key }));
			}
			// nothing else was written under the prefix
			expect(await keysUnder(redis, `${root}raw:`)).toEqual(keys.map((key) => `${root}raw:${key}`).sort());
		});

		// 16 MiB each way, three times: a limit for a busy machine, not a measure of speed
		it('round-trips a 16 MiB value', { timeout: 30_000 }, async () => {
			// each command's own limit as long as the test's: on a machine busy with the rest of the
			// suite, 16 MiB through JSON and a loopback socket took over the default 5 s
			const store = new RedisStore({ redis, prefix: `${root}large:`, timeout: 30_000 });
			const value = { blob: 'x'.repeat(16 * 1024 * 1024), nested: { tail: ['end', 1, null, true] } };
			await store.set('big', value);
			expect(await store.get('big')).toStrictEqual(value);
			expect(await store.take('big')).toStrictEqual(value);
			expect(await store.get('big')).toBeUndefined();
		});

		it('refuses a value that is not JSON-serialisable with a TypeError, writing nothing', async () => {
			const store = new RedisStore({ redis, prefix: `${root}bad:` });
			await expect(store.set('a', undefined)).rejects.toThrow(TypeError);
			await expect(store.set('a', () => 1)).rejects.toThrow(TypeError);
			await expect(store.set('a', { n: 1n })).rejects.toThrow(TypeError);
			expect(await redis.exists(`${root}bad:a`)).toBe(0);
		});

		it('never lets two keys with lone surrogates share an entry', async () => {
			const store = new RedisStore<string, string>({ redis, prefix: root });
			await expect(store.set('\ud800', 'high')).rejects.toThrow(/lone surrogate/);
			await store.set('\ufffd', 'replacement character');
			// each would reach Redis as U+FFFD, the key above
			expect(await store.get('\udc00')).toBeUndefined();
			expect(await store.take('\ud800')).toBeUndefined();
			await store.delete('\udfff');
			expect(await store.get('\ufffd')).toBe('replacement character');
			// a well-formed pair is a key like any other
			await store.set('\ud83d\ude00', 'emoji');
			expect(await store.get('\ud83d\ude00')).toBe('emoji');
		});

		it('fails with invalid_value, not undefined, when the stored text is not JSON, and leaks none of it', async () => {
			const store = new RedisStore({ redis, prefix: `${root}corrupt:` });
			await redis.set(`${root}corrupt:did:plc:a`, '{"refresh_token":"secret-rt-1234"');
			const error = await store.get('did:plc:a').catch((err: unknown) => err);
			expect(error).toBeInstanceOf(RedisStoreError);
			expect(error).toMatchObject({ code: 'invalid_value', operation: 'get', transient: false });
			expect(String((error as Error).message)).not.toContain('secret-rt-1234');
			expect((error as Error).cause).toBeUndefined();
		});

		it('fails with rejected, not undefined, when another type lives under the key', async () => {
			const store = new RedisStore({ redis, prefix: `${root}wrongtype:` });
			await redis.hset(`${root}wrongtype:a`, 'field', 'value');
			const error = await store.get('a').catch((err: unknown) => err);
			expect(error).toBeInstanceOf(RedisStoreError);
			expect(error).toMatchObject({ code: 'rejected', operation: 'get', transient: false });
			expect((error as Error).message).toMatch(/WRONGTYPE/);
		});
	});

	describe('prefixes and clear', () => {
		it('keeps stores with different prefixes apart', async () => {
			const sessions = new RedisStore({ redis, prefix: `${root}oauth:session:` });
			const states = new RedisStore({ redis, prefix: `${root}oauth:state:` });
			await sessions.set('k', 'session');
			await states.set('k', 'state');
			expect(await sessions.get('k')).toBe('session');
			expect(await states.take('k')).toBe('state');
			expect(await sessions.get('k')).toBe('session');
		});

		it('clears only its own prefix, in batches, past a prefix full of glob characters', async () => {
			// a prefix that is a glob pattern, and neighbours that the unescaped pattern would match
			const prefix = `${root}we*ird?[a]\\:`;
			const store = new RedisStore({ redis, prefix });
			const neighbours = [
				`${root}weXirdZa:k`,
				`${root}we*ird?[a]\\`,
				`${root}other:k`,
				`${root}we*ird?[b]\\:k`,
			];
			for (const key of neighbours) await redis.set(key, 'keep');
			// more than two SCAN/UNLINK batches of 500
			const pipeline = redis.pipeline();
			for (let i = 0; i < 1_234; i++) pipeline.set(`${prefix}k${i}`, '1');
			await pipeline.exec();

			await store.clear();
			expect(await keysUnder(redis, root)).toEqual([...neighbours].sort());
		});

		it('clears the right keys through a client with its own keyPrefix', async () => {
			const prefixed = connect(server.url, { keyPrefix: `${root}app:` });
			try {
				const store = new RedisStore({ redis: prefixed, prefix: 'sessions:' });
				await store.set('a', 1);
				await store.set('b', 2);
				await redis.set(`${root}app:states:a`, 'keep');
				expect(await redis.get(`${root}app:sessions:a`)).toBe('1');

				await store.clear();
				expect(await redis.exists(`${root}app:sessions:a`, `${root}app:sessions:b`)).toBe(0);
				expect(await redis.get(`${root}app:states:a`)).toBe('keep');
			} finally {
				await prefixed.quit();
			}
		});
	});

	describe('connections', () => {
		it('works on a lazyConnect client that has not connected yet', async () => {
			const lazy = connect(server.url, { lazyConnect: true });
			try {
				expect(lazy.status).toBe('wait');
				const store = new RedisStore({ redis: lazy, prefix: `${root}lazy:` });
				await store.set('a', 1);
				expect(await store.get('a')).toBe(1);
			} finally {
				await lazy.quit();
			}
		});

		it('works on a client without an offline queue, from before it is connected', async () => {
			const strict = connect(server.url, { enableOfflineQueue: false });
			try {
				expect(strict.status).not.toBe('ready');
				const store = new RedisStore({ redis: strict, prefix: `${root}strict:` });
				await store.set('a', 1);
				expect(await store.get('a')).toBe(1);
			} finally {
				await strict.quit();
			}
		});

		it('rejects a get whose signal is aborted with the signal’s reason', async () => {
			const store = new RedisStore({ redis, prefix: `${root}abort:` });
			const controller = new AbortController();
			const reason = new Error('gave up');
			controller.abort(reason);
			await expect(store.get('a', { signal: controller.signal })).rejects.toBe(reason);
		});
	});

	describe('options', () => {
		it('refuses bad options with a TypeError naming the option', () => {
			const make = (options: object) => () =>
				new RedisStore({ redis, prefix: 'p:', ...options } as ConstructorParameters<typeof RedisStore>[0]);
			expect(make({ redis: undefined })).toThrow(/redis must be an ioredis client/);
			expect(make({ redis: {} })).toThrow(/redis must be an ioredis client/);
			expect(make({ prefix: '' })).toThrow(/prefix must be a non-empty string/);
			expect(make({ prefix: 42 })).toThrow(/prefix/);
			expect(make({ ttl: 0 })).toThrow(/ttl/);
			expect(make({ ttl: 1.5 })).toThrow(/ttl/);
			expect(make({ ttl: Number.POSITIVE_INFINITY })).toThrow(/ttl/);
			expect(make({ timeout: 0 })).toThrow(/timeout/);
			expect(make({ timeout: Number.NaN })).toThrow(/timeout/);
			// a timer fires after 1 ms past 2^31 - 1: every command would time out
			expect(make({ timeout: 2 ** 31 })).toThrow(/timeout .*up to 2147483647/);
			expect(make({ now: 123 })).toThrow(/now must be a function/);
		});

		it('refuses a non-finite expiresAt with a TypeError', async () => {
			const store = new RedisStore({ redis, prefix: `${root}nan:` });
			await expect(store.set('a', 1, { expiresAt: Number.NaN })).rejects.toThrow(/expiresAt/);
		});
	});
});
