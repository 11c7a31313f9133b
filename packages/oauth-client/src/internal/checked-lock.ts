import type { LockFunction } from '../lock.ts';

/**
 * the app's `requestLock`, checked at every use: a lock that resolves without running its
 * function fails with a `TypeError` naming it. without the check such a lock (the documented
 * sample's `async requestLock(name, fn) { // ... }`, copied as it stands) made `callback()` return
 * a session it never stored, and a refresh end in a `TypeError` from deep inside the client.
 *
 * once the function has finished, its result stands when the lock then fails (its release, to a
 * database that went away): what it did is stored, and a failure would tell the caller otherwise
 * (a refresh reported failed after its tokens were stored, a call never sent).
 */
export const checkedLock = (lock: LockFunction): LockFunction => {
	return async (name, fn) => {
		let ran = false;
		let finished: { value: Awaited<ReturnType<typeof fn>> } | undefined;
		let result: Awaited<ReturnType<typeof fn>>;
		try {
			result = await lock(name, async () => {
				ran = true;
				const value = await fn();
				finished = { value };
				return value;
			});
		} catch (err) {
			if (finished !== undefined) return finished.value;
			throw err;
		}
		if (!ran) {
			throw new TypeError(
				`requestLock resolved without running the function it was given (lock "${name}"): it must call fn() while holding the lock and return its result`,
			);
		}
		return result;
	};
};
