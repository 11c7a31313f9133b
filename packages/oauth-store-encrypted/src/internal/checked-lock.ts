import type { LockFunction } from '@atcute/oauth-client';

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
	await lock(name, (lost) => {
		ran = true;
		// a distributed lock's `lost`: the write checks it, as the client's own writes do
		return visit(lost);
	});
	if (!ran) {
		// the lock's name holds the entry key, which the RewrapAbortedError names already
		throw new TypeError(
			'the lock returned without running the function it was given: a LockFunction must call fn() while holding the lock and return its result',
		);
	}
};
