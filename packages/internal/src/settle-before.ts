// shared by @atcute/oauth-client and @atcute/oauth-dpop (each build inlines it)

/**
 * `promise`, or the signal's reason once it aborts: a resolver that ignores the signal cannot hang
 * us, and a caller who gives up does not wait for work that goes on without it (a shared refresh).
 * `promise` is handled either way: what it settles with later is never an unhandled rejection.
 */
export const settleBefore = <T>(promise: Promise<T>, signal: AbortSignal): Promise<T> => {
	return new Promise<T>((resolve, reject) => {
		const onAbort = () => reject(signal.reason);
		// handled whatever happens: when the signal has aborted already (the resolver aborted it
		// while it ran, say), its own rejection must not go unhandled
		promise.then(
			(value) => {
				signal.removeEventListener('abort', onAbort);
				resolve(value);
			},
			(err: unknown) => {
				signal.removeEventListener('abort', onAbort);
				reject(err);
			},
		);
		if (signal.aborted) onAbort();
		else signal.addEventListener('abort', onAbort, { once: true });
	});
};
