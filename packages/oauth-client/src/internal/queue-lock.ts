import { LockTimeoutError } from '../errors.ts';
import type { LockFunction } from '../lock.ts';

/**
 * the in-memory lock itself: each waiter waits at most `waitOf()` (read as it starts waiting, so a
 * lock shared by clients can wait as long as the slowest of them needs).
 */
export const queueLock = (waitOf: () => number): LockFunction => {
	// a name is here while it is held; its set holds the waiters' hand-overs, in arrival order. a
	// waiter that gives up removes its own entry: behind a holder that never finishes, a name
	// keeps only its live waiters, not every waiter that ever timed out
	const queues = new Map<string, Set<() => void>>();

	/** waits for the holder of `name` to hand it over, for at most `waitOf()`. */
	const wait = (name: string, waiters: Set<() => void>): Promise<void> =>
		new Promise((resolve, reject) => {
			const timeout = waitOf();
			let timer: ReturnType<typeof setTimeout> | undefined;
			const handOver = (): void => {
				clearTimeout(timer);
				resolve();
			};
			waiters.add(handOver);
			if (timeout !== Number.POSITIVE_INFINITY) {
				timer = setTimeout(() => {
					// gone from the queue, so the name is never handed to a waiter that left
					waiters.delete(handOver);
					reject(new LockTimeoutError(name, timeout));
				}, timeout);
			}
		});

	/** hands `name` to its first waiter, or frees it when nobody waits. */
	const release = (name: string, waiters: Set<() => void>): void => {
		const [next] = waiters;
		if (next === undefined) {
			queues.delete(name);
		} else {
			waiters.delete(next);
			next();
		}
	};

	return async (name, fn) => {
		// as every lock adapter checks: a bad call fails before it queues behind anyone
		if (typeof name !== 'string' || name === '') throw new TypeError('lock name must be a non-empty string');
		if (typeof fn !== 'function') throw new TypeError('fn must be a function');
		let waiters = queues.get(name);
		if (waiters === undefined) {
			waiters = new Set();
			queues.set(name, waiters);
		} else {
			// a waiter that times out was never handed the name: it must not release it
			await wait(name, waiters);
		}

		try {
			return await fn();
		} finally {
			release(name, waiters);
		}
	};
};
