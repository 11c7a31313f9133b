import { LockUnavailableError } from '@atcute/oauth-client';
import type { Redis, RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
	connect,
	type SpawnedRedis,
	spawnRedisServer,
	uniquePrefix,
} from '../../oauth-store-redis/src/test-utils/redis-server.ts';
import { type StallingProxy, startStallingProxy } from '../test/support/stalling-proxy.ts';
import { createRedisLock, type RedisLockOptions } from './create-redis-lock.ts';
import type { LeaseLostEvent } from './errors.ts';

/** blocks the event loop, as a long synchronous stretch (or a GC pause) of the holder would. */
const blockEventLoop = (ms: number): void => {
	Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

// a server of our own, even in CI: these tests add ACL users to it
describe('createRedisLock (audit findings)', () => {
	let server: SpawnedRedis;
	let admin: Redis;
	const clients: Redis[] = [];
	const proxies: StallingProxy[] = [];
	const client = (url: string, options?: RedisOptions): Redis => {
		const redis = connect(url, options);
		clients.push(redis);
		return redis;
	};
	const proxy = async (): Promise<StallingProxy> => {
		const started = await startStallingProxy(server.port);
		proxies.push(started);
		return started;
	};
	/** a client logged in as a new ACL user with every right but `rule` takes away. */
	const userWithout = async (rule: string): Promise<Redis> => {
		const username = `lock-${globalThis.crypto.randomUUID()}`;
		await admin.acl('SETUSER', username, 'on', '>pw', '~*', '+@all', rule);
		const redis = client(server.url, { username, password: 'pw' });
		await redis.ping();
		return redis;
	};

	beforeAll(async () => {
		server = await spawnRedisServer();
		admin = connect(server.url);
	});
	afterEach(async () => {
		for (const redis of clients.splice(0)) redis.disconnect();
		await Promise.all(proxies.splice(0).map((each) => each.close()));
	});
	// optional: when the start failed there is nothing to stop, and no TypeError on top of that failure
	afterAll(async () => {
		admin?.disconnect();
		await server?.close();
	});

	it('tells a holder that outlives its lease over a silent link, while another process holds the name, before its renewal gives up', async () => {
		const link = await proxy();
		const prefix = uniquePrefix('silent-holder');
		const lost: LeaseLostEvent[] = [];
		// a renewal may wait 5 s for its answer, far longer than the 600 ms lease
		const lock = createRedisLock({
			redis: client(link.url),
			prefix,
			leaseMs: 600,
			renewMs: 200,
			timeout: 5_000,
			onLeaseLost: (event) => lost.push(event),
		});
		const other = createRedisLock({
			redis: client(server.url),
			prefix,
			waitMs: 10_000,
			retryDelay: 10,
			maxRetryDelay: 50,
		});
		let running = false;
		const result = await lock('a', async () => {
			running = true;
			link.silence();
			// nothing renews the lease: it runs out, and the other process takes the name
			const seen = await other('a', async () => ({ firstStillRunning: running }));
			// the holder is told while it still runs, not never
			await expect
				.poll(() => lost, { timeout: 3_000, interval: 10 })
				.toMatchObject([{ name: 'a', reason: 'unconfirmed' }]);
			running = false;
			return seen;
		});
		expect(result).toEqual({ firstStillRunning: true });
		// once per holding
		expect(lost).toHaveLength(1);
	});

	it('tells a holder that outran its lease with no renewal sent and no release answered, when it finishes; not one that finished within its lease', async () => {
		const prefix = uniquePrefix('finish-check');
		const lost: Array<LeaseLostEvent & { lease: number }> = [];
		const holder = async (leaseMs: number, stallMs: number): Promise<string> => {
			const link = await proxy();
			const lock = createRedisLock({
				redis: client(link.url),
				prefix,
				leaseMs,
				renewMs: Math.floor(leaseMs / 3),
				onLeaseLost: (event) => lost.push({ ...event, lease: leaseMs }),
			});
			return lock(`lease-${leaseMs}`, async () => {
				// Redis stops answering, and the holder's event loop is held up: no renewal is sent
				link.silence();
				blockEventLoop(stallMs);
				return 'done';
			});
		};
		// finished well within its lease: a release left unanswered is no loss
		await expect(holder(60_000, 50)).resolves.toBe('done');
		expect(lost).toEqual([]);
		// finished past its lease: nothing confirmed the lease, the release is not answered
		await expect(holder(300, 450)).resolves.toBe('done');
		expect(lost).toMatchObject([{ name: 'lease-300', reason: 'unconfirmed', lease: 300 }]);
	});

	it('takes the name when its acquisition ran but the answer was lost and ioredis sent it again, not waiting out its own lease', async () => {
		const link = await proxy();
		const prefix = uniquePrefix('resent');
		const key = `${prefix}a`;
		// ioredis's default: commands in flight when the connection drops are sent again
		const redis = client(link.url, { autoResendUnfulfilledCommands: true });
		await redis.ping();
		const direct = client(server.url);
		// a lease far longer than the wait: waiting for its own lease would end in LockTimeoutError
		const lock = createRedisLock({ redis, prefix, leaseMs: 60_000, waitMs: 1_000 });

		link.dropReplies(true);
		let heldBy: string | null = null;
		const holding = lock('a', async () => {
			heldBy = await direct.get(key);
			return 'ran';
		}).catch((err: unknown) => err);
		// the acquisition ran at the server, its answer never came back
		await expect.poll(() => direct.get(key), { timeout: 3_000, interval: 10 }).not.toBeNull();
		const token = await direct.get(key);
		link.dropReplies(false);
		link.cut();

		expect(await holding).toBe('ran');
		// the lease it held was the one its first send took
		expect(heldBy).toBe(token);
		// and it was released
		expect(await direct.exists(key)).toBe(0);
	});

	it.each(['-@scripting', '-set'])(
		'refuses acquisition for good (transient: false) to a Redis user with %s, without running the function',
		async (rule) => {
			const redis = await userWithout(rule);
			const prefix = uniquePrefix('refused');
			const lock = createRedisLock({ redis, prefix, onLeaseLost: () => {} });
			let ran = false;
			const error = await lock('a', async () => {
				ran = true;
			}).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(LockUnavailableError);
			expect(error).toMatchObject({ name: 'LockUnavailableError', lockName: 'a', transient: false });
			expect(ran).toBe(false);
			expect(await admin.exists(`${prefix}a`)).toBe(0);
		},
	);

	it('takes, renews and releases with a client whose numbers come as text (stringNumbers)', async () => {
		const prefix = uniquePrefix('string-numbers');
		const lost: LeaseLostEvent[] = [];
		const lock = createRedisLock({
			redis: client(server.url, { stringNumbers: true }),
			prefix,
			leaseMs: 600,
			renewMs: 100,
			waitMs: 1_000,
			onLeaseLost: (event) => lost.push(event),
		});
		// held past a few renewals, then released: the name is free at once for the next holder
		await lock('did:plc:a', () => new Promise((resolve) => setTimeout(resolve, 350)));
		expect(await admin.exists(`${prefix}did:plc:a`)).toBe(0);
		await expect(lock('did:plc:a', async () => 'again')).resolves.toBe('again');
		expect(lost).toEqual([]);
	});

	it('refuses a leaseMs that is not a safe integer, naming it, and takes the largest one', async () => {
		const make = (options: Partial<RedisLockOptions>) => () => createRedisLock({ redis: admin, ...options });
		// with renewMs given, nothing else refused it: every acquisition then failed at Redis
		expect(make({ leaseMs: 1e19, renewMs: 1_000 })).toThrow(TypeError);
		expect(make({ leaseMs: 1e19, renewMs: 1_000 })).toThrow(
			/^leaseMs must be a positive integer .*got 10000000000000000000$/,
		);
		expect(make({ leaseMs: 1e19 })).toThrow(/^leaseMs /);
		expect(make({ leaseMs: Number.MAX_SAFE_INTEGER + 1, renewMs: 1_000 })).toThrow(/^leaseMs /);

		const prefix = uniquePrefix('largest-lease');
		const lost: LeaseLostEvent[] = [];
		const lock = createRedisLock({
			redis: admin,
			prefix,
			leaseMs: Number.MAX_SAFE_INTEGER,
			renewMs: 1_000,
			onLeaseLost: (event) => lost.push(event),
		});
		const pttl = await lock('a', () => admin.pttl(`${prefix}a`));
		expect(pttl).toBeGreaterThan(Number.MAX_SAFE_INTEGER - 60_000);
		expect(await admin.exists(`${prefix}a`)).toBe(0);
		expect(lost).toEqual([]);
	});

	it('reports a release Redis refuses for good (the name stays blocked for the rest of the lease)', async () => {
		const redis = await userWithout('-del');
		const prefix = uniquePrefix('release-refused');
		const lost: LeaseLostEvent[] = [];
		const lock = createRedisLock({ redis, prefix, onLeaseLost: (event) => lost.push(event) });
		await expect(lock('a', async () => 'result')).resolves.toBe('result');
		expect(lost).toMatchObject([{ name: 'a', reason: 'unconfirmed' }]);
		expect(await admin.exists(`${prefix}a`)).toBe(1);
	});

	it('reports a renewal Redis refuses for good at once, while the holder runs and long before its lease ends', async () => {
		const redis = await userWithout('-pexpire');
		const prefix = uniquePrefix('renewal-refused');
		const lost: LeaseLostEvent[] = [];
		const lock = createRedisLock({
			redis,
			prefix,
			leaseMs: 60_000,
			renewMs: 50,
			onLeaseLost: (event) => lost.push(event),
		});
		const result = await lock('a', async () => {
			await expect
				.poll(() => lost, { timeout: 3_000, interval: 10 })
				.toMatchObject([{ name: 'a', reason: 'unconfirmed' }]);
			return 'result';
		});
		expect(result).toBe('result');
		// once per holding, though every renewal was refused; the release (DEL) went through
		expect(lost).toHaveLength(1);
		expect(await admin.exists(`${prefix}a`)).toBe(0);
	});
});
