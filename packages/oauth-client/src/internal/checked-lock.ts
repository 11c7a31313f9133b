import { createHoldSignal } from '@atcute-oauth/internal/hold-signal';

import type { LockFunction } from '../lock.ts';

/**
 * the app's `requestLock`, checked at every use: a lock that resolves without running its
 * function, or before the function has finished, fails with a `TypeError` naming it. without the check such a lock (the documented
 * sample's `async requestLock(name, fn) { // ... }`, copied as it stands) made `callback()` return
 * a session it never stored, and a refresh end in a `TypeError` from deep inside the client.
 *
 * the function handed to the lock takes no declared parameter (`length` 0), and passes on the
 * `lost` signal a lock gives it. it runs `fn` once: called again, it hands back the first run's
 * promise.
 *
 * once the function has finished, its outcome stands whatever the lock then gives, or fails to give
 * within `RELEASE_WAIT_MS`: a failure (its
 * release, to a database that went away) would tell the caller otherwise (a refresh reported failed
 * after its tokens were stored, a call never sent, a session ended for good reported as a failure
 * that may pass), and so would a lock that drops the result or swallows the function's error.
 */
/**
 * how long, once the lock's function has finished, the lock's own promise (its release) is waited
 * for, in milliseconds. a release that never answers (a Redis client that queues commands for ever
 * while Redis is away) must not hold the outcome back for ever: the refresh that stored its tokens,
 * every call of the account that joined it, and `close()` would never settle. the release goes on,
 * and a lease runs out by itself. long enough for any release that answers (`close()` waits for it
 * so, and the app then closes the lock's backend).
 */
export const RELEASE_WAIT_MS = 5_000;

export const checkedLock = (lock: LockFunction): LockFunction => {
	return async (name, fn) => {
		let ran = false;
		let finished: { value: Awaited<ReturnType<typeof fn>> } | { error: unknown } | undefined;
		let refused: { error: unknown } | undefined;
		// aborted too when the lock returns before `fn` finished: its writes check it last
		const hold = createHoldSignal();
		let fnDone!: () => void;
		const done = new Promise<void>((resolve) => {
			fnDone = resolve;
		});
		let releaseTimer: ReturnType<typeof setTimeout> | undefined;
		// once the lock has settled, no timer is started: one started after (the lock let go before
		// `fn` finished) would keep a process from exiting for RELEASE_WAIT_MS
		let settled = false;
		try {
			const held = async (lost: AbortSignal | undefined): Promise<Awaited<ReturnType<typeof fn>>> => {
				ran = true;
				try {
					const value = await fn(hold.follow(lost));
					finished = { value };
					return value;
				} catch (error) {
					finished = { error };
					throw error;
				} finally {
					// done with the lock's signal, which may outlive this holding (one per connection)
					hold.unfollow();
					fnDone();
				}
			};
			let running: ReturnType<typeof held> | undefined;
			// a function of length 0, as before `lost` was given: a lock that picks a callback style by
			// `fn.length` (async-lock's `acquire` calls a one-parameter `fn` with a `done` callback it
			// then waits for) must still see a function that returns a promise
			const locking = lock(name, (...given: [lost?: AbortSignal]) => {
				// a lock that calls it again (one that retries, or runs it once more to be sure) gets the
				// first run's promise: run twice, a refresh sent the refresh token the first had just
				// stored, spending two, and a sign-in wrote its session twice
				if (running === undefined) {
					running = held(given[0]);
					// the lock's to await, and it still gets the rejection. one that let go before `fn`
					// finished never looks: what `fn` throws then (its write refused for the lost hold)
					// was an unhandled rejection, which ends a Node process; the caller is told the
					// lock's fault (the TypeError below)
					running.catch(() => {});
				}
				return running;
			});
			// the release, once `fn` has finished, for at most RELEASE_WAIT_MS (what it then gives is
			// handled by the race, and ignored as below)
			const releaseWait = done.then(
				() =>
					new Promise<void>((resolve) => {
						if (!settled) releaseTimer = setTimeout(resolve, RELEASE_WAIT_MS);
					}),
			);
			await Promise.race([locking, releaseWait]);
		} catch (error) {
			refused = { error };
		} finally {
			settled = true;
			clearTimeout(releaseTimer);
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
