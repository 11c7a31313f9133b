/** a signal that aborts at a deadline or with the caller's signal; `dispose()` once done with it. */
export interface DeadlineSignal {
	/** aborts with the caller's reason, or with a `TimeoutError` once the deadline passes. */
	readonly signal: AbortSignal;
	/** whether it aborted for the deadline (not for the caller). */
	readonly timedOut: boolean;
	/** stops the timer and lets go of the caller's signal. */
	dispose(): void;
}

/**
 * `AbortSignal.any([caller, AbortSignal.timeout(ms)])`, without its leak: on Node 20 every such
 * signal stays in the caller's set of dependants for as long as the caller's signal lives
 * (nodejs/node#55351), so an app-wide shutdown signal given to every sign-in grew by two entries a
 * call. here the caller's signal holds one listener, removed by `dispose()`.
 */
export const deadlineSignal = (caller: AbortSignal | undefined, ms: number): DeadlineSignal => {
	const controller = new AbortController();
	let timedOut = false;
	const timer = setTimeout(() => {
		timedOut = true;
		controller.abort(new DOMException('The operation timed out.', 'TimeoutError'));
	}, ms);
	// as AbortSignal.timeout's: a pending deadline never keeps the process alive by itself
	(timer as { unref?: () => void }).unref?.();
	const onAbort = () => controller.abort(caller?.reason);
	if (caller?.aborted) onAbort();
	else caller?.addEventListener('abort', onAbort, { once: true });
	return {
		signal: controller.signal,
		get timedOut() {
			return timedOut;
		},
		dispose: () => {
			clearTimeout(timer);
			caller?.removeEventListener('abort', onAbort);
		},
	};
};
