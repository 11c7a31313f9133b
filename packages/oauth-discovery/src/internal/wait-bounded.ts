/** what `waitBounded` settles with when the time limit passes first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * waits for `value` at most `timeout` milliseconds (then resolves `TIMED_OUT`) and only while
 * `signal` is not aborted (then rejects with its `reason`). the timer and the listener are removed
 * as soon as one of them wins; `value` itself cannot be cancelled and is left to settle unobserved.
 */
export const waitBounded = <T>(
	value: T | PromiseLike<T>,
	timeout: number,
	signal: AbortSignal | undefined,
): Promise<T | typeof TIMED_OUT> => {
	if (signal?.aborted) {
		// the value's own rejection, should it come, must not go unhandled
		if (typeof (value as PromiseLike<T> | null)?.then === 'function') Promise.resolve(value).catch(() => {});
		return Promise.reject(signal.reason);
	}
	// a synchronous cache (the in-memory default) has answered already: no timer to set
	if (typeof (value as PromiseLike<T> | null)?.then !== 'function') return Promise.resolve(value as T);

	return new Promise<T | typeof TIMED_OUT>((resolve, reject) => {
		const onAbort = () => {
			done();
			reject(signal!.reason);
		};
		const timer = setTimeout(() => {
			done();
			resolve(TIMED_OUT);
		}, timeout);
		const done = () => {
			clearTimeout(timer);
			signal?.removeEventListener('abort', onAbort);
		};
		signal?.addEventListener('abort', onAbort, { once: true });
		// the handlers are attached even when the race is lost, so a late rejection is never unhandled
		Promise.resolve(value).then(
			(result) => {
				done();
				resolve(result);
			},
			(error: unknown) => {
				done();
				reject(error);
			},
		);
	});
};
