import { LockTimeoutError } from './errors.ts';

/**
 * runs `fn` while holding the lock `name`: no other holder of the same name runs at the same
 * time, in this process or (for a distributed lock) in any process sharing the lock.
 */
export type LockFunction = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/** the longest delay a timer keeps, in milliseconds: a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** options for `createMemoryLock`. */
export interface MemoryLockOptions {
	/**
	 * how long to wait for the lock, in milliseconds, before failing with `LockTimeoutError`.
	 * default 30 000: longer than a refresh can take, so waiting out a live refresh succeeds. at
	 * most 2^31 - 1 (a timer's limit); `Infinity` waits for ever.
	 */
	timeout?: number | undefined;
}

/**
 * an in-process lock: waiters queue per name, in order, each for at most `timeout`. a holder
 * that never finishes cannot wedge a name for ever: waiters give up and the queue moves on when
 * it does finish. enough for one process; use a distributed lock for several.
 */
export const createMemoryLock = (options: MemoryLockOptions = {}): LockFunction => {
	const { timeout = 30_000 } = options;
	// a timer fires at once past 2^31 - 1 ms (about 24.8 days): longer waits are refused, and
	// Infinity (wait for ever) sets none
	if (!(timeout > 0 && (timeout <= MAX_TIMER_MS || timeout === Number.POSITIVE_INFINITY))) {
		throw new TypeError(
			`lock timeout must be a positive number of milliseconds up to ${MAX_TIMER_MS}, or Infinity, got ${timeout}`,
		);
	}
	const tails = new Map<string, Promise<void>>();

	return async (name, fn) => {
		// as every lock adapter checks: a bad call fails before it queues behind anyone
		if (typeof name !== 'string' || name === '') throw new TypeError('lock name must be a non-empty string');
		if (typeof fn !== 'function') throw new TypeError('fn must be a function');
		const previous = tails.get(name);
		let release!: () => void;
		const held = new Promise<void>((resolve) => {
			release = resolve;
		});
		// the next waiter waits for the previous holder and for us, in that order
		const tail = previous === undefined ? held : previous.then(() => held);
		tails.set(name, tail);

		try {
			if (previous !== undefined && timeout === Number.POSITIVE_INFINITY) {
				await previous;
			} else if (previous !== undefined) {
				let timer: ReturnType<typeof setTimeout> | undefined;
				const timedOut = new Promise<never>((_, reject) => {
					timer = setTimeout(() => reject(new LockTimeoutError(name, timeout)), timeout);
				});
				try {
					await Promise.race([previous, timedOut]);
				} finally {
					clearTimeout(timer);
				}
			}
			return await fn();
		} finally {
			release();
			// forget the name once everything queued up to us is done, and nobody queued after us;
			// not before: a waiter that timed out must not free a name whose holder still runs
			void tail.then(() => {
				if (tails.get(name) === tail) tails.delete(name);
			});
		}
	};
};
