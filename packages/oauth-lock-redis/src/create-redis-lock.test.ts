import { LockTimeoutError } from '@atcute/oauth-client';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
	connect,
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from '../../oauth-store-redis/src/test-utils/redis-server.ts';
import { createRedisLock, type RedisLockOptions } from './create-redis-lock.ts';
import type { LeaseLostEvent } from './errors.ts';
import { RELEASE_SCRIPT } from './internal/scripts.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('createRedisLock', () => {
	let server: TestRedis;
	let redis: Redis;
	let prefix: string;

	beforeAll(async () => {
		server = await useTestRedis();
		redis = connect(server.url);
		prefix = uniquePrefix('lock');
	});
	afterEach(() => removeKeys(redis, prefix));
	// optional: when the start failed there is nothing to stop, and no TypeError on top of that failure
	afterAll(async () => {
		await redis?.quit();
		await server?.close();
	});

	const lockWith = (options: Partial<RedisLockOptions> = {}) =>
		createRedisLock({ redis, prefix, ...options });

	it('holds a lease under prefix + name with a random owner token and the lease as its PTTL, and releases it', async () => {
		const lock = lockWith({ leaseMs: 20_000 });
		const seen: Array<{ token: string | null; pttl: number }> = [];
		for (let i = 0; i < 2; i++) {
			await lock('oauth-session:did:plc:a', async () => {
				const key = `${prefix}oauth-session:did:plc:a`;
				seen.push({ token: await redis.get(key), pttl: await redis.pttl(key) });
			});
		}
		for (const { token, pttl } of seen) {
			expect(token).toMatch(/^[0-9a-f-]{36}$/);
			expect(pttl).toBeGreaterThan(15_000);
			expect(pttl).toBeLessThanOrEqual(20_000);
		}
		// a new token per acquisition
		expect(seen[0]!.token).not.toBe(seen[1]!.token);
		expect(await redis.exists(`${prefix}oauth-session:did:plc:a`)).toBe(0);
	});

	it('renews the lease while the holder runs longer than the lease', async () => {
		const lost: LeaseLostEvent[] = [];
		const lock = lockWith({ leaseMs: 600, renewMs: 100, onLeaseLost: (event) => lost.push(event) });
		const other = lockWith({ waitMs: 0 });
		const result = await lock('long', async () => {
			for (let i = 0; i < 5; i++) {
				await sleep(300);
				// past the first lease, the name is still ours
				await expect(other('long', async () => 'stolen')).rejects.toBeInstanceOf(LockTimeoutError);
			}
			return 'done';
		});
		expect(result).toBe('done');
		expect(lost).toEqual([]);
		await expect(other('long', async () => 'free')).resolves.toBe('free');
	});

	it('never releases a lease it does not own', async () => {
		const lock = lockWith();
		await lock('owned', async () => {
			const key = `${prefix}owned`;
			const token = await redis.get(key);
			// a release with another token (a holder whose lease expired) leaves the lease alone
			expect(await redis.eval(RELEASE_SCRIPT, 1, key, 'not-the-owner')).toBe(-1);
			expect(await redis.get(key)).toBe(token);
		});
	});

	it('reports a lease taken by another owner while held, still returns the result, and leaves the new lease', async () => {
		const lost: LeaseLostEvent[] = [];
		const lock = lockWith({ leaseMs: 600, renewMs: 100, onLeaseLost: (event) => lost.push(event) });
		const key = `${prefix}taken`;
		let signal: AbortSignal | undefined;
		const result = await lock('taken', async (given) => {
			signal = given;
			expect(signal?.aborted).toBe(false);
			// as if our lease had expired and another process had acquired the name
			await redis.set(key, 'another-owner', 'PX', 10_000);
			// reported by the next renewal, while the holder still runs
			await expect
				.poll(() => lost, { timeout: 5_000, interval: 20 })
				.toMatchObject([{ name: 'taken', reason: 'taken' }]);
			return 42;
		});
		// the holder's signal was aborted with the report, so a refresh not yet sent is not sent
		expect(signal?.aborted).toBe(true);
		expect(signal?.reason).toEqual(new Error('the lock "taken" was lost while held (taken)'));
		expect(result).toBe(42);
		expect(lost).toHaveLength(1);
		// our release did not delete the other owner's lease
		expect(await redis.get(key)).toBe('another-owner');
	});

	it('reports a lease that ran out while held as expired', async () => {
		const lost: LeaseLostEvent[] = [];
		const lock = lockWith({ leaseMs: 600, renewMs: 100, onLeaseLost: (event) => lost.push(event) });
		await lock('expired', async () => {
			await redis.del(`${prefix}expired`);
			await expect.poll(() => lost.length, { timeout: 5_000, interval: 20 }).toBe(1);
		});
		expect(lost).toMatchObject([{ name: 'expired', reason: 'expired' }]);
		expect(lost[0]!.heldMs).toBeGreaterThan(0);
	});

	it('reports a loss found only at release (the renewal never ran)', async () => {
		const lost: LeaseLostEvent[] = [];
		const lock = lockWith({ leaseMs: 60_000, onLeaseLost: (event) => lost.push(event) });
		await lock('at-release', async () => {
			await redis.set(`${prefix}at-release`, 'another-owner');
		});
		expect(lost).toMatchObject([{ name: 'at-release', reason: 'taken' }]);
	});

	it('warns through process warnings by default when a lease is lost', async () => {
		const warnings: Error[] = [];
		const listener = (warning: Error) => warnings.push(warning);
		process.on('warning', listener);
		try {
			await lockWith()('warned', async () => {
				await redis.del(`${prefix}warned`);
			});
			await sleep(10);
		} finally {
			process.off('warning', listener);
		}
		expect(warnings).toMatchObject([{ name: 'LeaseLostWarning', code: 'ATCUTE_OAUTH_LEASE_LOST' }]);
		expect(warnings[0]!.message).toMatch(/lock "warned" was lost while held \(expired/);
	});

	it('keeps a holder running when the lease-lost reporter throws', async () => {
		const lock = lockWith({
			onLeaseLost: () => {
				throw new Error('reporter bug');
			},
		});
		await expect(
			lock('reporter', async () => {
				await redis.del(`${prefix}reporter`);
				return 'ok';
			}),
		).resolves.toBe('ok');
	});

	it('waits with backoff and takes the name as soon as the holder releases it', async () => {
		const lock = lockWith({ retryDelay: 5, maxRetryDelay: 40 });
		const order: string[] = [];
		let attempts = 0;
		const counting = connect(server.url);
		try {
			// count the waiter's attempts (the acquiring script, the one with a SET) with a second client
			const monitor = await counting.monitor();
			monitor.on('monitor', (_time: string, args: string[]) => {
				if (
					args[0]?.toLowerCase() === 'eval' &&
					args[1]?.includes("'SET'") &&
					args[3] === `${prefix}queued`
				) {
					attempts++;
				}
			});
			await Promise.all([
				lock('queued', async () => {
					order.push('first in');
					await sleep(300);
					order.push('first out');
				}),
				sleep(20).then(() => lock('queued', async () => order.push('second in'))),
			]);
			monitor.disconnect();
		} finally {
			counting.disconnect();
		}
		expect(order).toEqual(['first in', 'first out', 'second in']);
		// 300 ms of waiting with 5-40 ms steps: a handful of attempts, not a spin
		expect(attempts).toBeGreaterThan(2);
		expect(attempts).toBeLessThan(40);
	});

	it('takes any leaseMs up to Number.MAX_SAFE_INTEGER with the default renewMs, overflowing no timer', async () => {
		// a third of such a lease is past a timer's longest delay: the default renewMs used to be
		// refused (naming renewMs, an option never given), from a leaseMs above 6 442 450 943
		const overflows: Error[] = [];
		const listener = (warning: Error): void => {
			if (warning.name === 'TimeoutOverflowWarning') overflows.push(warning);
		};
		process.on('warning', listener);
		try {
			for (const leaseMs of [6_442_450_944, Number.MAX_SAFE_INTEGER]) {
				const lock = lockWith({ leaseMs });
				const key = `${prefix}huge-${leaseMs}`;
				const pttl = await lock(`huge-${leaseMs}`, async () => {
					// held across a few turns of the event loop, with its renewal and lease timers set
					await sleep(50);
					return redis.pttl(key);
				});
				expect(pttl).toBeGreaterThan(leaseMs - 60_000);
				expect(await redis.exists(key)).toBe(0);
			}
			// a warning is emitted on the next tick: let it arrive
			await new Promise((resolve) => setImmediate(resolve));
			expect(overflows).toEqual([]);
		} finally {
			process.off('warning', listener);
		}
	});

	it('refuses bad options and names with a TypeError naming them', async () => {
		const make = (options: object) => () => createRedisLock({ redis, ...options } as RedisLockOptions);
		expect(make({ redis: undefined })).toThrow(/redis must be an ioredis client/);
		expect(make({ prefix: 1 })).toThrow(/prefix/);
		expect(make({ leaseMs: 0 })).toThrow(/leaseMs/);
		expect(make({ leaseMs: 1.5 })).toThrow(/leaseMs/);
		// named itself, not as the renewMs its default leaves no room for
		expect(make({ leaseMs: 1 })).toThrow(/^leaseMs must be at least 2 milliseconds .*got 1$/);
		expect(make({ leaseMs: 1000, renewMs: 1000 })).toThrow(/renewMs/);
		expect(make({ waitMs: -1 })).toThrow(/waitMs/);
		expect(make({ retryDelay: 0 })).toThrow(/retryDelay/);
		expect(make({ retryDelay: 100, maxRetryDelay: 50 })).toThrow(/maxRetryDelay/);
		expect(make({ timeout: Number.NaN })).toThrow(/timeout/);
		// past 2^31 - 1 ms a timer fires after 1 ms: renewals every millisecond, commands timing out
		expect(make({ leaseMs: 7e9, renewMs: 2 ** 31 })).toThrow(/renewMs .*at most 2147483647, got 2147483648$/);
		expect(make({ timeout: 2 ** 31 })).toThrow(/timeout .*up to 2147483647/);
		expect(make({ retryDelay: 2 ** 31 })).toThrow(/retryDelay/);
		expect(make({ onLeaseLost: 'log' })).toThrow(/onLeaseLost/);
		const lock = lockWith();
		await expect(lock('', async () => 1)).rejects.toThrow(/lock name/);
	});
});
