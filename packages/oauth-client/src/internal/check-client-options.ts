import { kindOf } from '@atcute-oauth/internal/kind-of';
import type { OAuthClientOptions } from '../oauth-client-options.ts';

/** the options that are functions the client calls later: a wrong one must fail here, by name. */
const FUNCTION_OPTIONS = ['fetch', 'now', 'sha256', 'createSigner'] as const;

/** checks the options `new OAuthClient()` cannot fill in itself; each error names the option. */
export const checkClientOptions = (options: OAuthClientOptions): void => {
	const { stores, actorResolver, requestLock, timeout, allowHttp, dangerouslySkipDpopNonceCheck, tracer } =
		options;
	if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
		throw new TypeError(`timeout must be a positive number of milliseconds, got ${timeout}`);
	}
	// a string from the environment ('false', '0') is truthy: it must not turn on plain http
	if (allowHttp !== undefined && typeof allowHttp !== 'boolean') {
		throw new TypeError(`allowHttp must be a boolean, got ${kindOf(allowHttp)}`);
	}
	if (dangerouslySkipDpopNonceCheck !== undefined && typeof dangerouslySkipDpopNonceCheck !== 'boolean') {
		throw new TypeError('dangerouslySkipDpopNonceCheck must be a boolean');
	}
	// otherwise a wrong one fails at the first request, as a network error that looks transient
	for (const name of FUNCTION_OPTIONS) {
		if (options[name] !== undefined && typeof options[name] !== 'function') {
			throw new TypeError(`${name} must be a function, got ${kindOf(options[name])}`);
		}
	}
	if (tracer !== undefined && typeof tracer?.trace !== 'function') {
		throw new TypeError('tracer must be an object with a trace(operation, context, fn) method');
	}
	for (const name of ['sessions', 'states'] as const) {
		const store = stores?.[name];
		if (
			typeof store?.get !== 'function' ||
			typeof store.set !== 'function' ||
			typeof store.delete !== 'function'
		) {
			throw new TypeError(`stores.${name} must be a store with get, set and delete methods`);
		}
	}
	const nonces = stores.dpopNonces;
	if (nonces !== undefined && (typeof nonces?.get !== 'function' || typeof nonces.set !== 'function')) {
		throw new TypeError('stores.dpopNonces must be a DpopNonceCache (an object with get and set methods)');
	}
	if (typeof actorResolver?.resolve !== 'function') {
		throw new TypeError('actorResolver must be an ActorResolver (an object with a resolve method)');
	}
	if (requestLock !== undefined && typeof requestLock !== 'function') {
		throw new TypeError('requestLock must be a function (name, fn) => Promise');
	}
};
