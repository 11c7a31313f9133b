import { settleBefore } from '@atcute-oauth/internal/settle-before';

/**
 * waits for `run`, a lock's call whose function marks `committed()` once what it does must stand
 * (a write begun), with `signal` bounding the wait until then: aborted before, it rejects with the
 * signal's reason at once (the function, when the lock comes or as it goes on, must see the abort
 * and commit to nothing); once committed, it waits for the function's end whatever the signal
 * does (what the function began, a write, stands). `settleBefore` on a signal that passes on only
 * an abort that comes first.
 */
export const waitForLock = <T>(
	run: Promise<T>,
	signal: AbortSignal | undefined,
	committed: () => boolean,
): Promise<T> => {
	if (signal === undefined) return run;
	const beforeEntry = new AbortController();
	const onAbort = () => {
		if (!committed()) beforeEntry.abort(signal.reason);
	};
	if (signal.aborted) onAbort();
	else signal.addEventListener('abort', onAbort, { once: true });
	const forget = () => signal.removeEventListener('abort', onAbort);
	run.then(forget, forget);
	return settleBefore(run, beforeEntry.signal);
};
