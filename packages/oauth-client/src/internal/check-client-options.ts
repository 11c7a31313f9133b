import { kindOf } from '@atcute-oauth/internal/kind-of';
import type { OAuthClientOptions, OAuthClientStores } from '../oauth-client-options.ts';
import { checkOptionNames } from './check-method-arguments.ts';

/** the options that are functions the client calls later: a wrong one must fail here, by name. */
const FUNCTION_OPTIONS = ['fetch', 'now', 'sha256', 'createSigner'] as const;

/** every option `new OAuthClient()` takes: the record names each key of the type, and no other. */
const CLIENT_OPTIONS = Object.keys({
	metadata: true,
	keyset: true,
	stores: true,
	requestLock: true,
	actorResolver: true,
	fetch: true,
	allowHttp: true,
	dangerouslySkipDpopNonceCheck: true,
	createSigner: true,
	sha256: true,
	now: true,
	timeout: true,
	tracer: true,
} satisfies Record<keyof OAuthClientOptions, true>);

/** every store `new OAuthClient()` takes under `stores`. */
const STORE_OPTIONS = Object.keys({
	sessions: true,
	states: true,
	dpopNonces: true,
} satisfies Record<keyof OAuthClientStores, true>);

/** what an option of another client meant here, for the error that refuses it. */
const FOREIGN_OPTIONS: Record<string, string> = {
	// @atcute/oauth-node-client 2.0.1
	responseMode:
		'this client always asks for the query response mode: the server redirects back with a GET whose query holds the code',
};

/** checks the options `new OAuthClient()` cannot fill in itself; each error names the option. */
export const checkClientOptions = (options: OAuthClientOptions): void => {
	// nothing, or null, would otherwise fail on a property read, naming no option
	if (typeof options !== 'object' || options === null || Array.isArray(options)) {
		throw new TypeError(
			`new OAuthClient(options) expects an options object ({ metadata, keyset, stores, actorResolver, ... }), got ${kindOf(options)}`,
		);
	}
	// an option this client does not know would be ignored without a word, and what it meant never
	// happen (2.0.1's responseMode: 'form_post' left a POST callback route waiting for ever)
	try {
		checkOptionNames('new OAuthClient(options)', options, CLIENT_OPTIONS);
	} catch (err) {
		// the one refused: the first the client does not know
		const refused = Object.keys(options).find((name) => !CLIENT_OPTIONS.includes(name));
		throw refused !== undefined && Object.hasOwn(FOREIGN_OPTIONS, refused)
			? new TypeError(`${(err as Error).message}; ${FOREIGN_OPTIONS[refused]}`)
			: err;
	}
	const { stores, actorResolver, requestLock, timeout, allowHttp, dangerouslySkipDpopNonceCheck, tracer } =
		options;
	// a timer fires after 1 ms past 2^31 - 1 ms: refused here, saying so (the discovery refuses it
	// too, but only as "not a positive number", which a positive number cannot make sense of)
	if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0 && timeout <= 2 ** 31 - 1)) {
		// a string from the environment is shown as one: `got 1000` would read as a number
		const got = typeof timeout === 'string' ? JSON.stringify(timeout) : String(timeout);
		throw new TypeError(`timeout must be a positive number of milliseconds up to ${2 ** 31 - 1}, got ${got}`);
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
	// a misspelt store (`dpopNonce`, `nonces`) would be ignored as a misspelt option is: the nonces
	// kept in this process's memory while the app believes them shared
	checkOptionNames('new OAuthClient(options).stores', stores, STORE_OPTIONS);
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
