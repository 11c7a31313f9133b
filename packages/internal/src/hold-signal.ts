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
	return {
		signal: held.signal,
		follow: (lost) => {
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
			for (const unfollow of unfollows.splice(0)) unfollow();
		},
		letGo: (reason) => held.abort(reason),
	};
};
