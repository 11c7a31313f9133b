import { createMemoryLock, type LockFunction } from '../lock.ts';
import type { SessionStore } from '../stored-types.ts';

/** the default lock of each session store object in this process. */
const locks = new WeakMap<SessionStore, LockFunction>();

/**
 * the lock a client uses when given no `requestLock`: one in-memory lock per session store object,
 * shared by every client on that store in this process. two clients built on one store (a web
 * handler and a job runner, a client per request) must not both spend a refresh token: per
 * instance, each would hold its own lock and both refresh at once.
 */
export const defaultLockFor = (sessions: SessionStore): LockFunction => {
	let lock = locks.get(sessions);
	if (lock === undefined) {
		lock = createMemoryLock();
		locks.set(sessions, lock);
	}
	return lock;
};
