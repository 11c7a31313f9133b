/** the signal a lock's function is given, and what aborts it. */
export interface HoldSignal {
	/** the signal for the function: it follows `lost`, given by `follow`. */
	readonly signal: AbortSignal;
	/** makes `signal` follow the lock's own `lost` (none: only `letGo` aborts it); returns `signal`. */
	follow(lost: AbortSignal | undefined): AbortSignal;
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
	return {
		signal: held.signal,
		follow: (lost) => {
			if (lost !== undefined) {
				if (lost.aborted) held.abort(lost.reason);
				else lost.addEventListener('abort', () => held.abort(lost.reason), { once: true });
			}
			return held.signal;
		},
		letGo: (reason) => held.abort(reason),
	};
};
