import type { LockFunction } from '@atcute/oauth-client';
import { createHoldSignal } from '@atcute-oauth/internal/hold-signal';

/**
 * `visit` run inside `lock(name, …)`, given the lock's `lost` signal, and checked: a lock that
 * resolves without running its function fails with a `TypeError` naming the problem. without the
 * check such a lock (a placeholder `async (name, fn) => {}`, copied as it stands) made `rewrap`
 * rewrite nothing and report success. as the client's own check of `requestLock` does
 * (`@atcute/oauth-client`, not exported).
 */
export const runLocked = async (
	lock: LockFunction,
	name: string,
	visit: (lost: AbortSignal | undefined) => Promise<void>,
): Promise<void> => {
	let ran = false;
	let finished: { error: unknown } | { ok: true } | undefined;
	let refused: { error: unknown } | undefined;
	// aborted too when the lock returns with the visit still running: its write checks `lost` last
	const hold = createHoldSignal();
	try {
		// a function of length 0, as the client hands its lock: a lock that picks a callback style by
		// `fn.length` (async-lock's `acquire` calls a one-parameter fn with a `done` it then waits for)
		await lock(name, (...given: [lost?: AbortSignal]) => {
			const running = (async () => {
				ran = true;
				try {
					// a distributed lock's `lost`: the write checks it, as the client's own writes do
					await visit(hold.follow(given[0]));
					finished = { ok: true };
				} catch (error) {
					finished = { error };
					throw error;
				} finally {
					// done with the lock's signal, which may outlive this holding (one per connection)
					hold.unfollow();
				}
			})();
			// the lock's to await, and it still gets the rejection. one that let go before the visit
			// finished never looks: what the visit throws then (its write refused for the lost hold)
			// was an unhandled rejection, which ends a Node process; the rewrap reports the lock's fault
			running.catch(() => {});
			return running;
		});
	} catch (error) {
		refused = { error };
	}
	if (finished === undefined) hold.letGo(new Error('the lock returned before its function finished'));
	// the visit's own failure (a lost hold, the store down), whatever the lock made of it: a lock
	// that swallows it must not let the rewrap carry on as if the entry were done
	if (finished !== undefined && 'error' in finished) throw finished.error;
	if (refused !== undefined) throw refused.error;
	if (!ran) {
		// the lock's name holds the entry key, which the RewrapAbortedError names already
		throw new TypeError(
			'the lock returned without running the function it was given: a LockFunction must call fn() while holding the lock and return its result',
		);
	}
	if (finished === undefined) {
		// let go while the visit still runs: its write would not be under the lock
		throw new TypeError(
			'the lock returned before the function it was given finished: a LockFunction must wait for fn() while holding the lock and return its result',
		);
	}
};
