import type { OAuthClientOptions } from '../oauth-client-options.ts';

/** checks the options `new OAuthClient()` cannot fill in itself; each error names the option. */
export const checkClientOptions = (options: OAuthClientOptions): void => {
	const { stores, actorResolver, requestLock, timeout, dangerouslySkipDpopNonceCheck, tracer } = options;
	if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
		throw new TypeError(`timeout must be a positive number of milliseconds, got ${timeout}`);
	}
	if (dangerouslySkipDpopNonceCheck !== undefined && typeof dangerouslySkipDpopNonceCheck !== 'boolean') {
		throw new TypeError('dangerouslySkipDpopNonceCheck must be a boolean');
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
	if (typeof actorResolver?.resolve !== 'function') {
		throw new TypeError('actorResolver must be an ActorResolver (an object with a resolve method)');
	}
	if (requestLock !== undefined && typeof requestLock !== 'function') {
		throw new TypeError('requestLock must be a function (name, fn) => Promise');
	}
};
