import { AS_REQUEST_TIMEOUT_MS, TOKEN_REQUEST_TIMEOUT_FACTOR } from './constants.ts';
import { queueLock } from './internal/queue-lock.ts';

/**
 * runs `fn` while holding the lock `name`: no other holder of the same name runs at the same
 * time, in this process or (for a distributed lock) in any process sharing the lock.
 *
 * a lock whose hold can be lost while `fn` runs (a lease that ran out, a connection that dropped)
 * gives `fn` a signal, `lost`, and aborts it when it finds the hold lost: the client then sends no
 * refresh token it had not sent yet, since another holder may be sending the same one, and a
 * refresh token the server sees twice ends the grant. the client takes the lock again and reads
 * the session anew. a lock that cannot lose its hold (as the in-memory one) gives none; every
 * distributed lock in this project's packages gives one.
 */
export type LockFunction = <T>(name: string, fn: (lost?: AbortSignal) => Promise<T>) => Promise<T>;

/** the longest delay a timer keeps, in milliseconds: a longer one fires after 1 ms. */
export const MAX_TIMER_MS: number = 2 ** 31 - 1;

/**
 * how long a refresh lock's waiter waits by default, in milliseconds (90 000), in every lock (the
 * client's default lock waits longer for a client whose `timeout` is over 10 s, as its refreshes
 * take longer): longer than a refresh takes with the client's default `timeout`, so a sign-out waiting out a live
 * refresh succeeds. a refresh reads the DID document and the PDS's and the authorization server's
 * metadata, each within `timeout`, and sends the token request within
 * `TOKEN_REQUEST_TIMEOUT_FACTOR` times it: 60 s when each is tried once; half as much again for the
 * session's read and write. (one whose token request is retried for a DPoP nonce or the server's
 * clock, and slow each time, can take longer.)
 */
export const LOCK_WAIT_MS: number = (3 + TOKEN_REQUEST_TIMEOUT_FACTOR) * AS_REQUEST_TIMEOUT_MS * 1.5;

/** options for `createMemoryLock`. */
export interface MemoryLockOptions {
	/**
	 * how long to wait for the lock, in milliseconds, before failing with `LockTimeoutError`.
	 * default `LOCK_WAIT_MS` (90 000), longer than a refresh takes. at most 2^31 - 1 (a timer's
	 * limit); `Infinity` waits for ever.
	 */
	timeout?: number | undefined;
}

/**
 * an in-process lock: waiters queue per name, in order, each for at most `timeout`. a holder
 * that never finishes cannot wedge a name for ever: waiters give up and the queue moves on when
 * it does finish. enough for one process; use a distributed lock for several.
 */
export const createMemoryLock = (options: MemoryLockOptions = {}): LockFunction => {
	const { timeout = LOCK_WAIT_MS } = options;
	// a timer fires at once past 2^31 - 1 ms (about 24.8 days): longer waits are refused, and
	// Infinity (wait for ever) sets none. a number only: `true` and '0x10' compare as 1 and 16
	if (
		typeof timeout !== 'number' ||
		!(timeout > 0 && (timeout <= MAX_TIMER_MS || timeout === Number.POSITIVE_INFINITY))
	) {
		const got = typeof timeout === 'string' ? JSON.stringify(timeout) : String(timeout);
		throw new TypeError(
			`lock timeout must be a positive number of milliseconds up to ${MAX_TIMER_MS}, or Infinity, got ${got}`,
		);
	}
	return queueLock(() => timeout);
};
