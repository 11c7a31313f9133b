/** the signal a lock's function is given, and what aborts it. */
export interface HoldSignal {
	/** the signal for the function: it follows `lost`, given by `follow`. */
	readonly signal: AbortSignal;
	/** makes `signal` follow the lock's own `lost` (none: only `letGo` aborts it); returns `signal`. */
	follow(lost: AbortSignal | undefined): AbortSignal;
	/**
	 * stops following `lost` (the function has finished): a lock may give every holding the same
	 * signal (its connection's, the app's shutdown signal), which must not keep a listener per holding.
	 */
	unfollow(): void;
	/** aborts `signal`: the lock let go of the function before it finished. */
	letGo(reason: unknown): void;
}

/**
 * the `lost` signal a checked lock hands its function in place of the lock's own: aborted when the
 * lock's is (with its reason), and when the lock returns before the function has finished. the
 * function checks `lost` right before each write, so a lock that lets go early (`fn()` called but
 * not awaited) stops the write it would otherwise make outside the lock (a refresh token spent, a
 * session overwritten). no `AbortSignal.any`: not every runtime this runs on has it.
 */
export const createHoldSignal = (): HoldSignal => {
	const held = new AbortController();
	const unfollows: (() => void)[] = [];
	/** the lock's own signal, while followed. */
	let following: AbortSignal | undefined;
	// read, it reads the lock's own first: a lock whose `aborted` finds a loss when read (see
	// `watchAborted`) must be asked right before a refresh token is sent, not only heard from
	watchAborted(held.signal, () => {
		if (following?.aborted) held.abort(following.reason);
	});
	return {
		signal: held.signal,
		follow: (lost) => {
			following = lost;
			if (lost !== undefined) {
				if (lost.aborted) held.abort(lost.reason);
				else {
					const onLost = () => held.abort(lost.reason);
					lost.addEventListener('abort', onLost, { once: true });
					unfollows.push(() => lost.removeEventListener('abort', onLost));
				}
			}
			return held.signal;
		},
		unfollow: () => {
			following = undefined;
			for (const unfollow of unfollows.splice(0)) unfollow();
		},
		letGo: (reason) => held.abort(reason),
	};
};

/** `AbortSignal.prototype`'s own `aborted` getter. */
const nativeAborted =
	typeof AbortSignal === 'undefined'
		? undefined
		: Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')?.get;

/**
 * makes reading `signal.aborted` run `before` first while it is not aborted, so that `before` can
 * abort it then (a lock that checks its lease when asked, not only on its timer). where the runtime
 * gives no `aborted` getter to build on, the signal is left as it is.
 */
export const watchAborted = (signal: AbortSignal, before: () => void): void => {
	const aborted = nativeAborted;
	if (aborted === undefined) return;
	// a read made by `before` itself (the abort it makes reads the signal) is answered as it stands
	let checking = false;
	Object.defineProperty(signal, 'aborted', {
		configurable: true,
		enumerable: true,
		get() {
			if (!checking && !aborted.call(signal)) {
				checking = true;
				try {
					before();
				} finally {
					checking = false;
				}
			}
			return aborted.call(signal);
		},
	});
};
