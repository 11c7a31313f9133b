import { settleBefore } from '@atcute-oauth/internal/settle-before';

/**
 * waits for `run`, a lock's call whose function marks `entered()` when it starts, with `signal`
 * bounding only the wait for the lock: aborted before the function started, it rejects with the
 * signal's reason at once (the function, when the lock comes, must see the abort and do nothing);
 * once the function started, it waits for its end whatever the signal does (what the function
 * began, a write, stands). `settleBefore` on a signal that passes on only an abort that comes first.
 */
export const waitForLock = <T>(
	run: Promise<T>,
	signal: AbortSignal | undefined,
	entered: () => boolean,
): Promise<T> => {
	if (signal === undefined) return run;
	const beforeEntry = new AbortController();
	const onAbort = () => {
		if (!entered()) beforeEntry.abort(signal.reason);
	};
	if (signal.aborted) onAbort();
	else signal.addEventListener('abort', onAbort, { once: true });
	const forget = () => signal.removeEventListener('abort', onAbort);
	run.then(forget, forget);
	return settleBefore(run, beforeEntry.signal);
};
