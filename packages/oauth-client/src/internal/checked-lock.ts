import type { LockFunction } from '../lock.ts';

/**
 * the app's `requestLock`, checked at every use: a lock that resolves without running its
 * function fails with a `TypeError` naming it. without the check such a lock (the documented
 * sample's `async requestLock(name, fn) { // ... }`, copied as it stands) made `callback()` return
 * a session it never stored, and a refresh end in a `TypeError` from deep inside the client.
 */
export const checkedLock = (lock: LockFunction): LockFunction => {
	return async (name, fn) => {
		let ran = false;
		const result = await lock(name, () => {
			ran = true;
			return fn();
		});
		if (!ran) {
			throw new TypeError(
				`requestLock resolved without running the function it was given (lock "${name}"): it must call fn() while holding the lock and return its result`,
			);
		}
		return result;
	};
};
