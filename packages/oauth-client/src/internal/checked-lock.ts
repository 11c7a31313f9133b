import { createHoldSignal } from '@atcute-oauth/internal/hold-signal';

import type { LockFunction } from '../lock.ts';

/**
 * the app's `requestLock`, checked at every use: a lock that resolves without running its
 * function, or before the function has finished, fails with a `TypeError` naming it. without the check such a lock (the documented
 * sample's `async requestLock(name, fn) { // ... }`, copied as it stands) made `callback()` return
 * a session it never stored, and a refresh end in a `TypeError` from deep inside the client.
 *
 * the function handed to the lock takes no declared parameter (`length` 0), and passes on the
 * `lost` signal a lock gives it.
 *
 * once the function has finished, its outcome stands whatever the lock then gives: a failure (its
 * release, to a database that went away) would tell the caller otherwise (a refresh reported failed
 * after its tokens were stored, a call never sent, a session ended for good reported as a failure
 * that may pass), and so would a lock that drops the result or swallows the function's error.
 */
export const checkedLock = (lock: LockFunction): LockFunction => {
	return async (name, fn) => {
		let ran = false;
		let finished: { value: Awaited<ReturnType<typeof fn>> } | { error: unknown } | undefined;
		let refused: { error: unknown } | undefined;
		// aborted too when the lock returns before `fn` finished: its writes check it last
		const hold = createHoldSignal();
		try {
			// a function of length 0, as before `lost` was given: a lock that picks a callback style by
			// `fn.length` (async-lock's `acquire` calls a one-parameter `fn` with a `done` callback it
			// then waits for) must still see a function that returns a promise
			await lock(name, async (...given: [lost?: AbortSignal]) => {
				ran = true;
				try {
					const value = await fn(hold.follow(given[0]));
					finished = { value };
					return value;
				} catch (error) {
					finished = { error };
					throw error;
				} finally {
					// done with the lock's signal, which may outlive this holding (one per connection)
					hold.unfollow();
				}
			});
		} catch (error) {
			refused = { error };
		}
		if (finished === undefined)
			hold.letGo(new Error(`the lock "${name}" let go before its function finished`));
		// the function's own outcome, whatever the lock made of it: a refresh that ended the session
		// is told as that, not as a release that failed, and a lock that drops the result (`await
		// lock(name, fn)` without `return`) or swallows the error must not turn a stored refresh into
		// a TypeError from inside the client, or a failure into a success
		if (finished !== undefined) {
			if ('error' in finished) throw finished.error;
			return finished.value;
		}
		if (refused !== undefined) throw refused.error;
		if (!ran) {
			throw new TypeError(
				`requestLock resolved without running the function it was given (lock "${name}"): it must call fn() while holding the lock and return its result`,
			);
		}
		// the lock was let go while the function still runs: nothing it does is under the lock, and
		// its result is not known yet
		throw new TypeError(
			`requestLock resolved before the function it was given finished (lock "${name}"): it must wait for fn() while holding the lock and return its result`,
		);
	};
};
