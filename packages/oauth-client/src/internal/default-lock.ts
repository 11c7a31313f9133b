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
 * the default lock of this process, and how long its waiters wait, shared by every installed copy
 * of this package (npm and pnpm can leave two: the facade's own beside the app's), whose clients
 * on one store must keep each other out all the same. its entry is kept under the registry itself
 * (an object every copy holds) and under each session store object a client was built on, where
 * an earlier release, which made one lock per store object, looks for it.
 */
const locks = processRegistry<object, { lock: LockFunction; wait: { longest: number } }>(
	'@atcute/oauth-client/default-session-locks@1',
);

/** the default locks this copy made: their timeouts are already of this copy's class. */
const ownLocks = new WeakSet<LockFunction>();
/** this copy's view of each default lock another installed copy made (`withOwnTimeouts`). */
const adoptedLocks = new WeakMap<LockFunction, LockFunction>();

/**
 * the lock a client uses when given no `requestLock`: one in-memory lock for the whole process,
 * shared by every client in it, whichever installed copy of this package it comes from. clients
 * whose sessions are one set of data (a web handler and a job runner, a client per request) must
 * not both spend a refresh token, and store objects do not tell whether they hold the same data:
 * each client's own `encryptStore` over one store, or two `SqliteStore`s of one table, are two
 * objects over one set of sessions (a lock per object, as before, let both refresh at once, and
 * the server's replay detection then ended the session). clients whose data is apart only wait on
 * each other for a refresh of the same account. its waiters wait as long as the refresh of the
 * slowest client (the longest `timeout`) can take: a sign-out behind a refresh made with
 * `timeout: 30000` must not give up while that refresh still runs.
 */
export const defaultLockFor = (sessions: SessionStore, timeout: number): LockFunction => {
	// an earlier release's lock for this store object is taken up: its clients and ours keep each
	// other out on that store (it cannot know of the wrappers over it)
	let entry = locks.get(sessions) ?? locks.get(locks);
	if (entry === undefined) {
		const waits = { longest: LOCK_WAIT_MS };
		entry = { wait: waits, lock: queueLock(() => waits.longest) };
		ownLocks.add(entry.lock);
		locks.set(locks, entry);
	}
	if (!locks.has(sessions)) locks.set(sessions, entry);
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
