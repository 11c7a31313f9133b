import { type LockFunction, LockTimeoutError } from '@atcute/oauth-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { sleep } from './fixtures.ts';

/**
 * one lock under test. `lock` (and `other`) must be set up with a short acquire bound, a second
 * or so: the suite waits one out, and 10 short holders in a row must fit well inside it.
 */
export interface LockHarness {
	/** the lock, with a short acquire bound. */
	lock: LockFunction;
	/** another instance sharing the same locks (another process), when the adapter has one. */
	other?: () => Promise<LockFunction>;
	/** closes what the harness opened (instances from `other` included) and removes its data. */
	cleanup: () => Promise<void>;
}

/** how long a barrier waits for holders of different names to meet before failing the test. */
const MEET_TIMEOUT_MS = 3_000;

/** a unique lock name per test, so a leaked lease cannot leak into the next test. */
let counter = 0;
const uniqueName = (label: string): string => `conformance:${label}:${process.pid}:${++counter}`;

/** runs `count` holders of one name, alternating between `locks`, and returns how many overlapped. */
const contend = async (locks: readonly LockFunction[], name: string, count: number) => {
	let inside = 0;
	let maxInside = 0;
	let ran = 0;
	await Promise.all(
		Array.from({ length: count }, (_, i) =>
			locks[i % locks.length]!(name, async () => {
				inside++;
				maxInside = Math.max(maxInside, inside);
				// yield to timers and I/O, so an overlapping holder would get in here
				await sleep(5);
				inside--;
				ran++;
			}),
		),
	);
	return { maxInside, ran };
};

/** what a waiter that was refused the name got: its error, how long it waited (ms), whether it ran. */
interface Refusal {
	error: unknown;
	waitedMs: number;
	ran: boolean;
}

/** tries `name` on `lock` with a function that only notes it ran; the error, the wait, whether it ran. */
const tryOnce = async (lock: LockFunction, name: string): Promise<Refusal> => {
	let ran = false;
	const started = performance.now();
	const error = await lock(name, async () => {
		ran = true;
	}).then(
		() => undefined,
		(err: unknown) => err,
	);
	return { error, waitedMs: performance.now() - started, ran };
};

/**
 * holds `name` through `holder` until `waiter` has given up on it, then has `waiter` try once
 * more while the holder is still inside: a waiter that gave up must not have freed the name.
 */
const waitOut = async (holder: LockFunction, waiter: LockFunction, name: string) => {
	let first!: Refusal;
	let second!: Refusal;
	await holder(name, async () => {
		first = await tryOnce(waiter, name);
		second = await tryOnce(waiter, name);
	});
	return { error: first.error, waiterRan: first.ran, waitedMs: first.waitedMs, second };
};

/**
 * checks a refusal for waiting out the bound it names: not given up early, nor waiting on long
 * past it (a margin for a loaded machine), and a bound that is one (over 0 ms).
 */
const expectBoundHonoured = ({ error, waitedMs }: { error: unknown; waitedMs: number }) => {
	const { timeout } = error as LockTimeoutError;
	expect(timeout).toBeGreaterThan(0);
	expect(waitedMs).toBeGreaterThanOrEqual(timeout - 50);
	expect(waitedMs).toBeLessThan(timeout * 2 + 500);
};

/**
 * registers the lock conformance suite: what every `LockFunction` must do for token refreshes
 * (one holder per name, across instances too, and still after a waiter gave up; results, errors
 * and release pass through, a throw before any promise included; a wait bounded as the error says,
 * that fails with `LockTimeoutError`; a `TypeError` for an empty name or an `fn` that is not a
 * function). `create` is called before each test.
 */
export const describeLock = (name: string, create: () => Promise<LockHarness>): void => {
	describe(`${name} (lock conformance)`, () => {
		let harness: LockHarness;

		beforeEach(async () => {
			harness = await create();
		});
		afterEach(async () => {
			await harness.cleanup();
		});

		/** the second instance, or the same one when the adapter has no other. */
		const secondLock = async (): Promise<LockFunction> =>
			harness.other === undefined ? harness.lock : harness.other();

		it('never lets 10 holders of one name overlap', async () => {
			const { maxInside, ran } = await contend([harness.lock], uniqueName('exclusion'), 10);
			expect(ran).toBe(10);
			expect(maxInside).toBe(1);
		});

		it('runs holders of different names at the same time', async () => {
			const names = [uniqueName('a'), uniqueName('b'), uniqueName('c')];
			let arrived = 0;
			let meet!: () => void;
			const allInside = new Promise<void>((resolve) => (meet = resolve));
			const results = await Promise.all(
				names.map((lockName) =>
					harness.lock(lockName, async () => {
						if (++arrived === names.length) meet();
						// each holder waits for the others inside their own locks: only possible concurrently
						return Promise.race([allInside.then(() => 'met'), sleep(MEET_TIMEOUT_MS).then(() => 'alone')]);
					}),
				),
			);
			expect(results).toEqual(['met', 'met', 'met']);
		});

		it('refuses an empty name and an fn that is not a function with a TypeError, holding nothing', async () => {
			let ran = false;
			await expect(
				harness.lock('', async () => {
					ran = true;
				}),
			).rejects.toBeInstanceOf(TypeError);
			const lockName = uniqueName('arguments');
			await expect(harness.lock(lockName, 'not a function' as never)).rejects.toBeInstanceOf(TypeError);
			expect(ran).toBe(false);
			// nothing was taken: the name is free at once
			await expect(harness.lock(lockName, async () => 'free')).resolves.toBe('free');
		});

		it("passes the holder's result through and releases the lock", async () => {
			const lockName = uniqueName('result');
			await expect(harness.lock(lockName, async () => ({ value: 42 }))).resolves.toEqual({ value: 42 });
			await expect(harness.lock(lockName, async () => 'again')).resolves.toBe('again');
		});

		it("passes the holder's error through and releases the lock", async () => {
			const lockName = uniqueName('error');
			const boom = new Error('boom');
			await expect(harness.lock(lockName, async () => Promise.reject(boom))).rejects.toBe(boom);
			await expect(harness.lock(lockName, async () => 'after')).resolves.toBe('after');
		});

		it('fails a waiter that cannot acquire within its bound with a LockTimeoutError, without running it', async () => {
			const lockName = uniqueName('timeout');
			const refused = await waitOut(harness.lock, harness.lock, lockName);
			expect(refused.error).toBeInstanceOf(LockTimeoutError);
			expect(refused.error).toMatchObject({ lockName, transient: true });
			expect(refused.waiterRan).toBe(false);
			expectBoundHonoured(refused);
			// the waiter that gave up freed nothing: the name is still the holder's
			expect(refused.second.error).toBeInstanceOf(LockTimeoutError);
			expect(refused.second.ran).toBe(false);
			// the holder's release frees the name
			await expect(harness.lock(lockName, async () => 'free')).resolves.toBe('free');
		});

		it('releases the name when the function throws before returning a promise', async () => {
			const lockName = uniqueName('sync-throw');
			const boom = new Error('thrown at once');
			const throwsAtOnce = (() => {
				throw boom;
			}) as unknown as () => Promise<never>;
			await expect(harness.lock(lockName, throwsAtOnce)).rejects.toBe(boom);
			await expect(harness.lock(lockName, async () => 'after')).resolves.toBe('after');
		});

		it('never lets holders on two instances overlap (the same instance when there is no second)', async () => {
			const other = await secondLock();
			const { maxInside, ran } = await contend([harness.lock, other], uniqueName('instances'), 10);
			expect(ran).toBe(10);
			expect(maxInside).toBe(1);
		});

		it('fails a waiter on another instance with a LockTimeoutError while the name is held (the same instance when there is no second)', async () => {
			const other = await secondLock();
			const lockName = uniqueName('instances-timeout');
			const refused = await waitOut(harness.lock, other, lockName);
			expect(refused.error).toBeInstanceOf(LockTimeoutError);
			expect(refused.waiterRan).toBe(false);
			expectBoundHonoured(refused);
			expect(refused.second.error).toBeInstanceOf(LockTimeoutError);
			expect(refused.second.ran).toBe(false);
			await expect(other(lockName, async () => 'free')).resolves.toBe('free');
		});
	});
};
