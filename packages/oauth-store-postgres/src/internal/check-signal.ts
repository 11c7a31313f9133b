import { kindOf } from '@atcute-oauth/internal/kind-of';
import { isSignalLike } from '@atcute-oauth/internal/signal-like';

/**
 * `signal` as the store's queries take it: undefined for none (`undefined` or `null`), else a
 * signal. not `instanceof AbortSignal`: one from another realm or a polyfill is taken too, so it
 * is checked for what `runQuery` uses of it (a boolean `aborted` and the listener methods).
 * anything else is refused at the call, before any query: it used to fail only once a query was
 * about to be sent, as "throwIfAborted is not a function", after the migration had run.
 * @throws {TypeError} naming `signal` and what it got; the controller itself is the usual slip
 */
export const checkSignal = (signal: unknown): AbortSignal | undefined => {
	if (signal === undefined || signal === null) return undefined;
	if (isSignalLike(signal)) return signal;
	throw new TypeError(`signal must be an AbortSignal (pass controller.signal), got ${kindOf(signal)}`);
};
