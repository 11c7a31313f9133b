/** the AbortError a signal that aborted without a reason stands for, one per signal (see below). */
const fallbacks = new WeakMap<object, DOMException>();

const fallbackOf = (signal: AbortSignal): DOMException => {
	let error = fallbacks.get(signal);
	if (error === undefined) {
		error = new DOMException('This operation was aborted', 'AbortError');
		fallbacks.set(signal, error);
	}
	return error;
};

/**
 * what an aborted request rejects with: the signal's reason, as fetch; for a signal that has none
 * (a polyfill's, such as the `abort-controller` package's, which the transport takes as fetch
 * does) the `AbortError` fetch gives, never `undefined`. the same error each time for one signal.
 */
export const abortReasonOf = (signal: AbortSignal): unknown => {
	return signal.reason !== undefined ? signal.reason : fallbackOf(signal);
};

/**
 * what an aborted body fails with: the signal's reason, unless it is none at all (`undefined`,
 * `null`, `0`, `''`, `false`), with which destroying the body's source would end it without an
 * error, and its reader would wait for ever; fetch fails the body with an `AbortError` then.
 */
export const bodyAbortErrorOf = (signal: AbortSignal): unknown => {
	return signal.reason || fallbackOf(signal);
};
