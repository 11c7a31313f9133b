import { kindOf } from '@atcute-oauth/internal/kind-of';

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
	const like = signal as Partial<AbortSignal> & { abort?: unknown; signal?: unknown };
	if (
		typeof signal === 'object' &&
		typeof like.aborted === 'boolean' &&
		typeof like.addEventListener === 'function' &&
		typeof like.removeEventListener === 'function'
	) {
		return signal as AbortSignal;
	}
	if (typeof like.abort === 'function' && typeof like.signal === 'object' && like.signal !== null) {
		throw new TypeError('signal must be an AbortSignal, got an AbortController: pass its .signal');
	}
	throw new TypeError(`signal must be an AbortSignal, got ${kindOf(signal)}`);
};
