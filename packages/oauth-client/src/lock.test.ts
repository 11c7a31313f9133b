import { queryObjects } from 'node:v8';

import { describe, expect, it, vi } from 'vitest';

import { LockTimeoutError } from './errors.ts';
import { createMemoryLock } from './lock.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createMemoryLock', () => {
	it('runs holders of one name one at a time, in order', async () => {
		const lock = createMemoryLock();
		const events: string[] = [];
		let inside = 0;
		let maxInside = 0;

		await Promise.all(
			[0, 1, 2, 3, 4].map((i) =>
				lock('a', async () => {
					inside++;
					maxInside = Math.max(maxInside, inside);
					events.push(`start ${i}`);
					await sleep(5);
					events.push(`end ${i}`);
					inside--;
				}),
			),
		);
		expect(maxInside).toBe(1);
		expect(events).toEqual([0, 1, 2, 3, 4].flatMap((i) => [`start ${i}`, `end ${i}`]));
	});

	// a refresh holds the account's lock while it reads three documents within the client's timeout
	// (10 s) and sends the token request within three times it: a sign-out waiting behind a slow
	// but live refresh must outlast it, about 60 s when each is tried once
	it('waits 90 s by default before failing a waiter', async () => {
		vi.useFakeTimers();
		try {
			const lock = createMemoryLock();
			let release!: () => void;
			const holding = lock('a', () => new Promise<void>((resolve) => (release = resolve)));
			let outcome: unknown;
			const waiting = lock('a', async () => 'ran').then(
				(value) => (outcome = value),
				(err: unknown) => (outcome = err),
			);
			await vi.advanceTimersByTimeAsync(89_999);
			expect(outcome).toBeUndefined();
			await vi.advanceTimersByTimeAsync(1);
			expect(outcome).toBeInstanceOf(LockTimeoutError);
			expect(outcome).toMatchObject({ timeout: 90_000 });
			release();
			await Promise.all([holding, waiting]);
		} finally {
			vi.useRealTimers();
		}
	});

	it('lets different names run at the same time', async () => {
		const lock = createMemoryLock();
		let inside = 0;
		let maxInside = 0;
		await Promise.all(
			['a', 'b', 'c'].map((name) =>
				lock(name, async () => {
					inside++;
					maxInside = Math.max(maxInside, inside);
					await sleep(10);
					inside--;
				}),
			),
		);
		expect(maxInside).toBe(3);
	});

	it('returns the holder result and passes its error on, releasing either way', async () => {
		const lock = createMemoryLock();
		await expect(lock('a', async () => 42)).resolves.toBe(42);
		await expect(lock('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
		await expect(lock('a', async () => 'after')).resolves.toBe('after');
	});

	it('gives up waiting after its timeout with a LockTimeoutError, without running the function', async () => {
		const lock = createMemoryLock({ timeout: 30 });
		let release!: () => void;
		const holder = lock('a', () => new Promise<void>((resolve) => (release = resolve)));

		let ran = false;
		const waiter = lock('a', async () => {
			ran = true;
		});
		const error = await waiter.catch((err: unknown) => err);
		expect(error).toBeInstanceOf(LockTimeoutError);
		expect(error).toMatchObject({ lockName: 'a', timeout: 30, transient: true });
		expect(ran).toBe(false);

		// a waiter arriving after the timed-out one still waits for the real holder
		let thirdRan = false;
		const third = lock('a', async () => {
			thirdRan = true;
		});
		await sleep(10);
		expect(thirdRan).toBe(false);
		release();
		await holder;
		await third;
		expect(thirdRan).toBe(true);
	});

	it('keeps nothing of the waiters that timed out behind a holder that never finishes', async () => {
		const lock = createMemoryLock({ timeout: 1 });
		let finish!: () => void;
		// a hung holder stays reachable (a socket or timer holds it), and so does all it keeps
		const holder = lock('a', () => new Promise<void>((resolve) => (finish = resolve)));
		// counted after a full garbage collection: only what is still reachable
		const before = queryObjects(Promise, { format: 'count' });
		// in a function of its own, so that no frame of the test keeps the waiters' promises
		const timeOut = async (count: number): Promise<number> => {
			const results = await Promise.allSettled(
				Array.from({ length: count }, () => lock('a', async () => {})),
			);
			return results.filter((result) => result.status === 'rejected').length;
		};
		let timedOut = 0;
		for (let round = 0; round < 10; round++) timedOut += await timeOut(1_000);
		expect(timedOut).toBe(10_000);
		// the last round's own promises are let go of on the next turn
		await sleep(10);
		// linked one behind another, the 10 000 timed-out waiters kept about 60 000 promises
		expect(queryObjects(Promise, { format: 'count' }) - before).toBeLessThan(1_000);

		finish();
		await holder;
		await expect(lock('a', async () => 'after')).resolves.toBe('after');
	});

	it('rejects an empty or missing lock name and a holder that is not a function, running nothing', async () => {
		const lock = createMemoryLock();
		await expect(lock('', async () => 'in')).rejects.toThrow(/non-empty string/);
		// biome-ignore lint/suspicious/noExplicitAny: a caller without types
		await expect(lock(undefined as any, async () => 'in')).rejects.toThrow(/non-empty string/);
		// biome-ignore lint/suspicious/noExplicitAny: a caller without types
		await expect(lock('did:plc:a', 'fn' as any)).rejects.toThrow(/fn must be a function/);
		// nothing was left queued: the name is free at once
		await expect(lock('did:plc:a', async () => 'in')).resolves.toBe('in');
	});

	it('rejects a timeout that is not a positive number, or longer than a timer can wait', () => {
		expect(() => createMemoryLock({ timeout: 0 })).toThrow(TypeError);
		expect(() => createMemoryLock({ timeout: Number.NaN })).toThrow(TypeError);
		// a timer fires after 1 ms past 2^31 - 1: such a waiter would fail at once
		expect(() => createMemoryLock({ timeout: 2 ** 31 })).toThrow(/up to 2147483647/);
	});

	it.each([true, '0x10', '30000', ['30000']])('rejects a timeout of %j: a number only', (timeout) => {
		// compared as numbers, true was a 1 ms limit and '0x10' a 16 ms one
		expect(() => createMemoryLock({ timeout: timeout as unknown as number })).toThrow(
			/^lock timeout must be a positive number of milliseconds up to 2147483647, or Infinity, got /,
		);
	});

	it('waits for ever with a timeout of Infinity', async () => {
		const lock = createMemoryLock({ timeout: Number.POSITIVE_INFINITY });
		let release!: () => void;
		const holding = lock('a', () => new Promise<void>((resolve) => (release = resolve)));
		const waiting = lock('a', async () => 'second');
		await new Promise((resolve) => setTimeout(resolve, 50));
		release();
		await holding;
		await expect(waiting).resolves.toBe('second');
	});
});
