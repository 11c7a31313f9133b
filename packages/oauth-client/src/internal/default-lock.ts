import { TOKEN_REQUEST_TIMEOUT_FACTOR } from '../constants.ts';
import { LockTimeoutError } from '../errors.ts';
import { LOCK_WAIT_MS, type LockFunction, MAX_TIMER_MS } from '../lock.ts';
import type { SessionStore } from '../stored-types.ts';
import { processRegistry } from './process-registry.ts';
import { queueLock } from './queue-lock.ts';

/**
 * how long a waiter must be able to wait for a refresh made with the client's `timeout` (each
 * request's limit), as `LOCK_WAIT_MS` is for the default one: never less than it, and within what
 * a timer takes.
 */
export const lockWaitFor = (timeout: number): number =>
	Math.min(Math.max(LOCK_WAIT_MS, (3 + TOKEN_REQUEST_TIMEOUT_FACTOR) * timeout * 1.5), MAX_TIMER_MS);

/**
 * the default lock of each session store object in this process, and how long its waiters wait,
 * shared by every installed copy of this package (npm and pnpm can leave two: the facade's own
 * beside the app's), whose clients on one store must keep each other out all the same.
 */
const locks = processRegistry<SessionStore, { lock: LockFunction; wait: { longest: number } }>(
	'@atcute/oauth-client/default-session-locks@1',
);

/** the default locks this copy made: their timeouts are already of this copy's class. */
const ownLocks = new WeakSet<LockFunction>();
/** this copy's view of each default lock another installed copy made (`withOwnTimeouts`). */
const adoptedLocks = new WeakMap<LockFunction, LockFunction>();

/**
 * the lock a client uses when given no `requestLock`: one in-memory lock per session store object,
 * shared by every client on that store in this process, whichever installed copy of this package
 * it comes from. two clients built on one store (a web
 * handler and a job runner, a client per request) must not both spend a refresh token: per
 * instance, each would hold its own lock and both refresh at once. its waiters wait as long as the
 * refresh of the slowest of those clients (the longest `timeout`) can take: a sign-out behind a
 * refresh made with `timeout: 30000` must not give up while that refresh still runs.
 */
export const defaultLockFor = (sessions: SessionStore, timeout: number): LockFunction => {
	let entry = locks.get(sessions);
	if (entry === undefined) {
		const waits = { longest: LOCK_WAIT_MS };
		entry = { wait: waits, lock: queueLock(() => waits.longest) };
		ownLocks.add(entry.lock);
		locks.set(sessions, entry);
	}
	entry.wait.longest = Math.max(entry.wait.longest, lockWaitFor(timeout));
	if (ownLocks.has(entry.lock)) return entry.lock;
	let adopted = adoptedLocks.get(entry.lock);
	if (adopted === undefined) {
		adopted = withOwnTimeouts(entry.lock);
		adoptedLocks.set(entry.lock, adopted);
	}
	return adopted;
};

/**
 * a lock another installed copy made, whose own time-out is thrown as this copy's
 * `LockTimeoutError`: the app's `instanceof` is against the class it imported with this client,
 * whichever copy's client happened to make the store's lock first. what `fn` throws is left as it is.
 */
const withOwnTimeouts =
	(shared: LockFunction): LockFunction =>
	async (name, fn) => {
		let ran = false;
		try {
			return await shared(name, (lost) => {
				ran = true;
				return fn(lost);
			});
		} catch (err) {
			if (
				ran ||
				err instanceof LockTimeoutError ||
				(err as { code?: unknown })?.code !== 'ERR_LOCK_TIMEOUT'
			) {
				throw err;
			}
			const { lockName, timeout } = err as LockTimeoutError;
			throw new LockTimeoutError(lockName, timeout);
		}
	};
