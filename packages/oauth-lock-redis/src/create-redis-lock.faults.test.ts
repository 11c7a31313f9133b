import type { Socket } from 'node:net';

import { type LockFunction, LockTimeoutError, LockUnavailableError } from '@atcute/oauth-client';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
	connect,
	IOREDIS_MAJORS,
	type SpawnedRedis,
	spawnRedisServer,
	uniquePrefix,
} from '../../oauth-store-redis/src/test-utils/redis-server.ts';
import { type StallingProxy, startStallingProxy } from '../test/support/stalling-proxy.ts';
import { createRedisLock } from './create-redis-lock.ts';
import type { LeaseLostEvent } from './errors.ts';
import { RENEW_SCRIPT } from './internal/scripts.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `lock(name, fn)`, tried again when the acquisition itself was not answered in time (`fn` not
 * run): with a 100 ms command timeout a loaded machine may answer the first SET later than that,
 * and the tests that use it are about the lease once held, not about taking it.
 */
const holdWith = async <T>(lock: LockFunction, name: string, fn: () => Promise<T>): Promise<T> => {
	for (let attempt = 1; ; attempt++) {
		let ran = false;
		try {
			return await lock(name, () => {
				ran = true;
				return fn();
			});
		} catch (err) {
			if (ran || attempt === 5 || !(err instanceof LockUnavailableError)) throw err;
		}
	}
};

// fault tests always run on a server of their own, even in CI: they stop, freeze and restart it
describe('createRedisLock when Redis fails', () => {
	let server: SpawnedRedis;
	const clients: Redis[] = [];
	const proxies: StallingProxy[] = [];
	const client = (url = server.url): Redis => {
		const redis = connect(url);
		clients.push(redis);
		return redis;
	};
	/** a proxy to the server whose answers the test holds back; commands still run. */
	const proxy = async (): Promise<StallingProxy> => {
		const started = await startStallingProxy(server.port);
		proxies.push(started);
		return started;
	};

	beforeAll(async () => {
		server = await spawnRedisServer();
	});
	afterEach(async () => {
		if (server.pid !== undefined) process.kill(server.pid, 'SIGCONT');
		await server.start();
		for (const redis of clients.splice(0)) redis.disconnect();
		await Promise.all(proxies.splice(0).map((each) => each.close()));
	});
	// optional: when the start failed there is nothing to stop, and no TypeError on top of that failure
	afterAll(() => server?.close());

	it('fails with a LockUnavailableError without running the function while Redis is down, and works after it restarts', async () => {
		const lock = createRedisLock({ redis: client(), prefix: uniquePrefix('down'), timeout: 300 });
		await lock('a', async () => {});

		await server.stop();
		let ran = false;
		const error = await lock('a', async () => {
			ran = true;
		}).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect(error).toMatchObject({ name: 'LockUnavailableError', lockName: 'a', transient: true });
		expect(ran).toBe(false);

		await server.start();
		await expect
			.poll(() => lock('a', async () => 'back').catch((err: unknown) => err), {
				timeout: 10_000,
				interval: 100,
			})
			.toBe('back');
	});

	for (const [major, connectWith] of IOREDIS_MAJORS) {
		for (const how of ['quit', 'disconnect'] as const) {
			it(`fails at once, not transient, without running the function on a client closed for good with ${how}() (${major})`, async () => {
				const redis = connectWith(server.url);
				clients.push(redis);
				const lock = createRedisLock({ redis, prefix: uniquePrefix(how) });
				await lock('a', async () => {});
				if (how === 'quit') await redis.quit();
				else redis.disconnect();
				let ran = false;
				const started = performance.now();
				const error = await lock('a', async () => {
					ran = true;
				}).catch((err: unknown) => err);
				// a retry loop that follows `transient` must stop: this client never sends again
				expect(error).toBeInstanceOf(LockUnavailableError);
				expect(error).toMatchObject({
					lockName: 'a',
					transient: false,
					message: expect.stringMatching(/the Redis connection was closed for good/),
				});
				expect(ran).toBe(false);
				expect(performance.now() - started).toBeLessThan(1000);
			});
		}
	}

	it('fails a waiter, not transient, when its client is quit while it waits for a busy name', async () => {
		const prefix = uniquePrefix('waiter-quit');
		const holderLock = createRedisLock({ redis: client(), prefix });
		const waiting = client();
		const waiterLock = createRedisLock({ redis: waiting, prefix, waitMs: 20_000 });
		let release!: () => void;
		let held!: () => void;
		const isHeld = new Promise<void>((resolve) => (held = resolve));
		const holder = holderLock('a', () => {
			held();
			return new Promise<void>((resolve) => (release = resolve));
		});
		await isHeld;
		const started = performance.now();
		const waiter = waiterLock('a', async () => 'ran').catch((err: unknown) => err);
		// the waiter tried once and is in its backoff
		await sleep(100);
		await waiting.quit();
		const error = await waiter;
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect(error).toMatchObject({ lockName: 'a', transient: false });
		// told at its next attempt, not after waitMs
		expect(performance.now() - started).toBeLessThan(5_000);
		release();
		await holder;
	});

	it('fails, not transient, an attempt whose connection dropped before its answer when ioredis does not reconnect', async () => {
		const redis = connect(server.url, { retryStrategy: () => null });
		clients.push(redis);
		const lock = createRedisLock({ redis, prefix: uniquePrefix('pending'), timeout: 5_000 });
		await lock('a', async () => {});
		// the attempt's script is sent at once; the connection drops before any answer can be read
		const pending = lock('a', async () => 'ran').catch((err: unknown) => err);
		(redis.stream as Socket).destroy();
		expect(await pending).toMatchObject({
			name: 'LockUnavailableError',
			transient: false,
			message: expect.stringMatching(/closed for good before the command was answered/),
		});
	});

	it('reports no lost lease for a holder whose client is quit while it runs, and returns its result', async () => {
		// the lease cannot be renewed or released once the client is closed: it runs out by itself
		// (as with Redis unreachable), which is no loss while the holder ran within it
		const lost: LeaseLostEvent[] = [];
		const redis = client();
		const lock = createRedisLock({
			redis,
			prefix: uniquePrefix('held-quit'),
			leaseMs: 3_000,
			renewMs: 50,
			onLeaseLost: (event) => lost.push(event),
		});
		const result = await lock('a', async () => {
			await redis.quit();
			// renewals fail meanwhile
			await sleep(200);
			return 'kept';
		});
		expect(result).toBe('kept');
		await sleep(100);
		expect(lost).toEqual([]);
	});

	it('reports an unconfirmed lease when Redis stops answering for longer than a lease, and still returns the result', async () => {
		const lost: LeaseLostEvent[] = [];
		const redis = client();
		// connected before the lock's 100 ms limit applies: on a loaded machine (test files run side by
		// side) the connect can take longer, and the test is about the lease, not the connect
		await redis.ping();
		const lock = createRedisLock({
			redis,
			prefix: uniquePrefix('frozen'),
			leaseMs: 400,
			renewMs: 100,
			timeout: 100,
			onLeaseLost: (event) => lost.push(event),
		});
		const result = await holdWith(lock, 'a', async () => {
			process.kill(server.pid!, 'SIGSTOP');
			try {
				await sleep(1_200);
			} finally {
				process.kill(server.pid!, 'SIGCONT');
			}
			return 'finished';
		});
		expect(result).toBe('finished');
		expect(lost).toMatchObject([{ name: 'a', reason: 'unconfirmed' }]);
	});

	it('keeps renewing a lease it reported unconfirmed, so that it does not run out under the holder once Redis answers again', async () => {
		const stalling = await proxy();
		const prefix = uniquePrefix('unconfirmed-kept');
		const lost: LeaseLostEvent[] = [];
		const redis = client(stalling.url);
		// connected before the lock's 100 ms limit applies (as above)
		await redis.ping();
		const lock = createRedisLock({
			redis,
			prefix,
			leaseMs: 600,
			renewMs: 100,
			timeout: 100,
			onLeaseLost: (event) => lost.push(event),
		});
		const other = createRedisLock({ redis: client(), prefix, waitMs: 1_800 });
		const result = await holdWith(lock, 'a', async () => {
			// no answer comes back for longer than a lease; the renewals still reach Redis and run
			stalling.stall();
			await expect.poll(() => lost.length, { timeout: 5_000, interval: 10 }).toBe(1);
			stalling.resume();
			// three leases more: had the renewals stopped, the lease would run out and the other get in
			return other('a', async () => 'got in').catch((err: unknown) => err);
		});
		expect(result).toBeInstanceOf(LockTimeoutError);
		// reported once, not again when renewals got through
		expect(lost).toMatchObject([{ name: 'a', reason: 'unconfirmed' }]);
	});

	it('gives up waiting within waitMs and a moment when Redis stops answering, not a whole command timeout later', {
		timeout: 30_000,
	}, async () => {
		const stalling = await proxy();
		const prefix = uniquePrefix('wait-bound');
		const holder = createRedisLock({ redis: client(), prefix });
		const waiterRedis = client(stalling.url);
		await waiterRedis.ping();
		// below the 1 s grace: every SET after the first gets exactly that grace
		const waiter = createRedisLock({ redis: waiterRedis, prefix, waitMs: 900, timeout: 20_000 });
		await holder('a', async () => {
			let ran = false;
			const answered = stalling.delivered;
			const waiting = waiter('a', async () => {
				ran = true;
			}).catch((err: unknown) => err);
			// the waiter finds the name busy (its first SET, which gets the whole timeout, was
			// answered), then Redis stops answering it mid-wait
			await expect.poll(() => stalling.delivered, { timeout: 5_000, interval: 5 }).toBeGreaterThan(answered);
			stalling.stall();
			const error = await waiting;
			expect(error).toBeInstanceOf(LockUnavailableError);
			// the SET's limit was the 1 s grace (waitMs was nearly spent), not the 20 s timeout
			expect((error as Error).message).toBe(
				'lock "a" could not be acquired: Redis did not answer within 1000 ms',
			);
			expect(ran).toBe(false);
		});
	});

	it.each([0, 50])(
		'gives the first SET the whole timeout for its answer, however small waitMs (%i)',
		async (waitMs) => {
			const stalling = await proxy();
			const redis = client(stalling.url);
			await redis.ping();
			const lock = createRedisLock({ redis, prefix: uniquePrefix('first-set'), waitMs, timeout: 1_500 });
			stalling.stall();
			let ran = false;
			const error = await lock('a', async () => {
				ran = true;
			}).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(LockUnavailableError);
			// 1 500 ms, not the 1 s left to a SET sent at the end of a wait
			expect((error as Error).message).toBe(
				'lock "a" could not be acquired: Redis did not answer within 1500 ms',
			);
			expect(ran).toBe(false);
		},
	);

	it('reports a lease lost in a Redis restart, and taken by another process, though the holder returned while its client reconnected', {
		timeout: 15_000,
	}, async () => {
		const prefix = uniquePrefix('restart');
		const lost: LeaseLostEvent[] = [];
		// reconnects 2 s after it loses its connection
		const slow = connect(server.url, { retryStrategy: () => 2_000 });
		clients.push(slow);
		// a lease well past the reconnect: the late release's "not ours" is a loss only while the
		// lease should still have run (3 s left ~200 ms after the reconnect, which a loaded machine spent)
		const holder = createRedisLock({
			redis: slow,
			prefix,
			leaseMs: 8_000,
			renewMs: 1_000,
			onLeaseLost: (event) => lost.push(event),
		});
		const other = createRedisLock({ redis: client(), prefix, leaseMs: 3_000, onLeaseLost: () => {} });
		let otherIn = false;
		let otherDone: Promise<unknown> | undefined;
		await holder('a', async () => {
			await sleep(800);
			// the restart loses the lease's key (no persistence): another process takes the name
			await server.stop();
			await server.start();
			await sleep(150);
			otherDone = other('a', async () => {
				otherIn = true;
				// past the holder's reconnect, however late: its release then finds the name another's
				await expect.poll(() => lost.length, { timeout: 10_000 }).toBe(1);
			});
			await expect.poll(() => otherIn).toBe(true);
			// the holder returns while its own client is still reconnecting: no release can be sent
			expect(slow.status).not.toBe('ready');
		});
		await otherDone;
		await expect.poll(() => lost.length, { timeout: 5_000 }).toBe(1);
		expect(lost[0]).toMatchObject({ name: 'a', reason: 'taken' });
	});

	it('releases, once Redis is back, the lease of a holder that returned while its client reconnected, and never renews it', {
		timeout: 15_000,
	}, async () => {
		const prefix = uniquePrefix('reconnect');
		// reconnects 700 ms after it loses its connection
		const redis = connect(server.url, { retryStrategy: () => 700 });
		clients.push(redis);
		const admin = client();
		await redis.ping();
		const id = String(await redis.client('ID'));
		// renewals sent once the holder has returned: there must be none
		let returned = false;
		let renewalsAfter = 0;
		const send = redis.eval.bind(redis) as (...args: unknown[]) => Promise<unknown>;
		(redis as unknown as { eval: (...args: unknown[]) => Promise<unknown> }).eval = (...args) => {
			if (returned && args[0] === RENEW_SCRIPT) renewalsAfter++;
			return send(...args);
		};
		const holder = createRedisLock({ redis, prefix, leaseMs: 3_000, renewMs: 1_000, onLeaseLost: () => {} });
		await holder('a', async () => {
			await sleep(900);
			// the connection drops just before a renewal is due: the renewal waits for the reconnect
			await admin.client('KILL', 'ID', id);
			await sleep(250);
			expect(redis.status).not.toBe('ready');
			returned = true;
		});
		// back (in 700 ms): the release went out, and the renewal did not (it would have given the
		// key 3 s more, and left it there well past this wait)
		await expect.poll(() => admin.exists(`${prefix}a`), { timeout: 1_800 }).toBe(0);
		expect(renewalsAfter).toBe(0);
		const other = createRedisLock({ redis: admin, prefix, waitMs: 100 });
		await expect(other('a', async () => 'free')).resolves.toBe('free');
	});

	it('returns the result without waiting on a Redis that went down while held (the lease runs out by itself)', async () => {
		// a command timeout far longer than the release wait: the result must not wait for it
		const lock = createRedisLock({
			redis: client(),
			prefix: uniquePrefix('release'),
			timeout: 20_000,
			onLeaseLost: () => {},
		});
		let stoppedAt = 0;
		const result = await lock('a', async () => {
			await server.stop();
			stoppedAt = performance.now();
			return 'kept';
		});
		expect(result).toBe('kept');
		expect(performance.now() - stoppedAt).toBeLessThan(10_000);
	});

	it('returns the result without waiting a command timeout on a Redis that stopped answering while held', async () => {
		// frozen, the connection stays 'ready': the release is sent and no answer comes
		const lock = createRedisLock({
			redis: client(),
			prefix: uniquePrefix('frozen-release'),
			timeout: 20_000,
			onLeaseLost: () => {},
		});
		let frozenAt = 0;
		const result = await lock('a', async () => {
			process.kill(server.pid!, 'SIGSTOP');
			frozenAt = performance.now();
			return 'kept';
		});
		expect(result).toBe('kept');
		expect(performance.now() - frozenAt).toBeLessThan(10_000);
	});
});
