/** a signal that aborts at a deadline or with the caller's signal; `dispose()` once done with it. */
export interface DeadlineSignal {
	/** aborts with the caller's reason, or with a `TimeoutError` once the deadline passes. */
	readonly signal: AbortSignal;
	/** whether it aborted for the deadline (not for the caller). */
	readonly timedOut: boolean;
	/** stops the timer and lets go of the caller's signal. */
	dispose(): void;
}

/** for each caller's signal with deadlines in flight: its one listener, and what it aborts. */
const followers = new WeakMap<AbortSignal, { listener: () => void; aborts: Set<() => void> }>();

/**
 * has `abort` run when `caller` aborts; returns what stops it. one listener on `caller` however
 * many calls follow it at once: an app-wide signal given to eleven calls in flight would otherwise
 * hold eleven, and Node warns of a leak past ten.
 */
const follow = (caller: AbortSignal, abort: () => void): (() => void) => {
	let entry = followers.get(caller);
	if (entry === undefined) {
		const aborts = new Set<() => void>();
		const listener = () => {
			followers.delete(caller);
			for (const each of aborts) each();
		};
		entry = { listener, aborts };
		followers.set(caller, entry);
		caller.addEventListener('abort', listener, { once: true });
	}
	const { listener, aborts } = entry;
	aborts.add(abort);
	return () => {
		aborts.delete(abort);
		if (aborts.size === 0 && followers.get(caller) === entry) {
			followers.delete(caller);
			caller.removeEventListener('abort', listener);
		}
	};
};

/**
 * `AbortSignal.any([caller, AbortSignal.timeout(ms)])`, without its leak: on Node 20 every such
 * signal stays in the caller's set of dependants for as long as the caller's signal lives
 * (nodejs/node#55351), so an app-wide shutdown signal given to every sign-in grew by two entries a
 * call. here the caller's signal holds one listener while calls follow it, removed with the last.
 */
export const deadlineSignal = (caller: AbortSignal | undefined, ms: number): DeadlineSignal => {
	const controller = new AbortController();
	let timedOut = false;
	// the abort waits one more turn of the event loop: a timer that fell due while the process was
	// frozen (a serverless function suspended, a laptop asleep, a debugger's pause) or its loop
	// blocked runs before the sockets are read, and would throw away an answer that has arrived,
	// unread (a refresh's: the only copy of the new refresh token, the old one spent). read first,
	// the answer settles the call, and `dispose` cancels the abort
	let late: ReturnType<typeof setTimeout> | undefined;
	const timer = setTimeout(() => {
		late = setTimeout(() => {
			timedOut = true;
			controller.abort(new DOMException('The operation timed out.', 'TimeoutError'));
		}, 0);
		(late as { unref?: () => void }).unref?.();
	}, ms);
	// as AbortSignal.timeout's: a pending deadline never keeps the process alive by itself
	(timer as { unref?: () => void }).unref?.();
	let unfollow: (() => void) | undefined;
	if (caller?.aborted) controller.abort(caller.reason);
	else if (caller !== undefined) unfollow = follow(caller, () => controller.abort(caller.reason));
	return {
		signal: controller.signal,
		get timedOut() {
			return timedOut;
		},
		dispose: () => {
			clearTimeout(timer);
			clearTimeout(late);
			unfollow?.();
			unfollow = undefined;
		},
	};
};
