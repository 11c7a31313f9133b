import { kindOf } from '@atcute-oauth/internal/kind-of';
import { isSignalLike } from '@atcute-oauth/internal/signal-like';

/**
 * throws the `TypeError` for an `allowHttp` that is given and not a boolean: a string from the
 * environment ('false', '0') is truthy, and would turn plain-http discovery on.
 */
export const checkAllowHttp = (allowHttp: unknown): void => {
	if (allowHttp !== undefined && typeof allowHttp !== 'boolean') {
		throw new TypeError(`allowHttp must be a boolean, got ${kindOf(allowHttp)}`);
	}
};

/**
 * throws the `TypeError` for a `fetch` or `now` option that is given and not a function: a wrong
 * `fetch` would otherwise fail at the first request as a network error, which looks transient.
 */
export const checkFunction = (name: string, value: unknown): void => {
	if (value !== undefined && typeof value !== 'function') {
		throw new TypeError(`${name} must be a function, got ${kindOf(value)}`);
	}
};

/**
 * throws the `TypeError` for a `signal` that is not an `AbortSignal` (or one from another realm:
 * the methods this package calls); the controller itself is the usual slip.
 */
export const checkSignal = (signal: unknown): void => {
	if (signal === undefined) return;
	// this package also calls throwIfAborted, which a polyfill may lack
	if (isSignalLike(signal) && typeof signal.throwIfAborted === 'function') return;
	throw new TypeError(`signal must be an AbortSignal (pass controller.signal), got ${kindOf(signal)}`);
};

/**
 * throws the `TypeError` for a `cache` option, or one of its caches, that is given and is not a
 * `MetadataCache` (a `Map` has get and set, and is taken).
 */
export const checkCaches = (cache: unknown): void => {
	if (cache === undefined) return;
	if (typeof cache !== 'object' || cache === null) {
		throw new TypeError(
			`cache must be an object { protectedResource?, authorizationServer? }, got ${kindOf(cache)}`,
		);
	}
	for (const name of ['protectedResource', 'authorizationServer'] as const) {
		const store = (cache as Record<string, { get?: unknown; set?: unknown } | undefined>)[name];
		if (store !== undefined && (typeof store?.get !== 'function' || typeof store.set !== 'function')) {
			throw new TypeError(`cache.${name} must be a MetadataCache (an object with get and set methods)`);
		}
	}
};
