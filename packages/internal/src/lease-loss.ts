// shared by @atcute/oauth-lock-redis, @atcute/oauth-store-postgres and @atcute/oauth-store-sqlite
// (each build inlines it): how a lock holder reports, once, that its lock was lost while it ran.

/** what a lock's `onLeaseLost` is told; each package names its own reasons. */
export interface LeaseLoss<Reason extends string> {
	/** the lock's name. */
	name: string;
	/** how the loss was found. */
	reason: Reason;
	/** how long the holder had been running when the loss was found, in milliseconds. */
	heldMs: number;
}

/** the default `onLeaseLost` of every lock: a process warning, which Node prints to stderr. */
export const warnLeaseLost = (event: LeaseLoss<string>): void => {
	globalThis.process?.emitWarning?.(
		`the lock "${event.name}" was lost while held (${event.reason}, after ${Math.round(event.heldMs)} ms): another process may have held it at the same time`,
		{ type: 'LeaseLostWarning', code: 'ATCUTE_OAUTH_LEASE_LOST' },
	);
};

/** one holding of a lock, from the moment it was acquired. */
export interface Holding<Reason extends string> {
	/** whether the loss has been reported. */
	readonly lost: boolean;
	/**
	 * aborted when the loss is found: the holder's function is given it, so it can leave undone
	 * what must not run twice at once (a refresh token not yet sent).
	 */
	readonly signal: AbortSignal;
	/**
	 * the first time only: runs `stop` (the renewal or heartbeat), then tells `onLeaseLost` (a
	 * microtask later, in the async context the holding began in).
	 * aborts `signal` unless `maybeHeld`: a loss that may not be one (a PostgreSQL heartbeat not
	 * answered in time on a connection still open, which a stalled event loop also gives: the lock
	 * goes only with the connection), reported but not acted on; a later call without it aborts.
	 */
	lose(reason: Reason, maybeHeld?: boolean): void;
}

/**
 * starts tracking a holding of `name`, acquired just now. a loss is reported once whatever finds
 * it (a renewal, a dropped connection, the release); a reporter that throws cannot break the holder.
 */
export const trackHolding = <Reason extends string>(
	name: string,
	onLeaseLost: (event: LeaseLoss<Reason>) => void,
	stop: () => void,
): Holding<Reason> => {
	const heldSince = performance.now();
	const controller = new AbortController();
	// told in the holder's async context (its request's id, logger and trace, in the app's
	// AsyncLocalStorage), whatever finds the loss: a pooled connection's 'end' runs in the context
	// of the request that opened it, and another request's loss was logged as that one's. a promise
	// reaction runs in the context its `.then` was called in, on every runtime, with no node: import
	let tell!: (event: LeaseLoss<Reason>) => void;
	void new Promise<LeaseLoss<Reason>>((resolve) => {
		tell = resolve;
	}).then((event) => {
		try {
			const reported: unknown = onLeaseLost(event);
			// an async reporter that rejects (a log sink down) must not end the process either
			if (typeof (reported as PromiseLike<unknown> | undefined)?.then === 'function') {
				Promise.resolve(reported).catch(() => {});
			}
		} catch {
			// a throwing reporter must not break the holder
		}
	});
	let lost = false;
	// kept here, not read off the signal: a lock may make reading the signal check its lease (see
	// `watchAborted`), which would report its own reason in place of the one being reported
	let aborted = false;
	return {
		get lost() {
			return lost;
		},
		signal: controller.signal,
		lose(reason, maybeHeld = false) {
			if (!maybeHeld && !aborted) {
				aborted = true;
				controller.abort(new Error(`the lock "${name}" was lost while held (${reason})`));
			}
			if (lost) return;
			lost = true;
			stop();
			// a microtask later, in the holder's context (see `tell`); the signal is aborted now
			tell({ name, reason, heldMs: performance.now() - heldSince });
		},
	};
};
