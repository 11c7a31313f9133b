/**
 * waits for `run`, a lock's call whose function marks `entered()` when it starts, with `signal`
 * bounding only the wait for the lock: aborted before the function started, it rejects with the
 * signal's reason at once (the function, when the lock comes, must see the abort and do nothing);
 * once the function started, it waits for its end whatever the signal does (what the function
 * began, a write, stands).
 */
export const waitForLock = <T>(
	run: Promise<T>,
	signal: AbortSignal | undefined,
	entered: () => boolean,
): Promise<T> => {
	if (signal === undefined) return run;
	return new Promise<T>((resolve, reject) => {
		const onAbort = () => {
			if (entered()) return;
			// the lock's own end is let go: its function throws the abort when it starts
			run.catch(() => {});
			reject(signal.reason);
		};
		// a signal aborted already gets no 'abort' event
		if (signal.aborted) {
			onAbort();
			if (!entered()) return;
		}
		signal.addEventListener('abort', onAbort, { once: true });
		run.then(
			(value) => {
				signal.removeEventListener('abort', onAbort);
				resolve(value);
			},
			(err: unknown) => {
				signal.removeEventListener('abort', onAbort);
				reject(err);
			},
		);
	});
};
