import type { ClientAuthMethod, StoredSession, StoredState, TokenSet } from '@atcute/oauth-client';
import type { DpopAlgorithm, DpopPrivateJwk, Secp256k1PrivateJwk } from '@atcute/oauth-dpop';
import type { EcPrivateJwk, RsaPrivateJwk } from '@atcute/oauth-keys';

/** a DID of one of the methods atproto uses. */
type AtprotoDid = `did:plc:${string}` | `did:web:${string}`;

const isAtprotoDid = (value: string): value is AtprotoDid =>
	value.startsWith('did:plc:') || value.startsWith('did:web:');

/** a granted scope with `atproto` among its space-separated values, as that client types it. */
type AtprotoScope = `${'' | `${string} `}atproto${'' | ` ${string}`}`;

const isAtprotoScope = (value: string): value is AtprotoScope => value.split(' ').includes('atproto');

/** a DPoP private key as that client stores it: `alg` absent, or the one its key type signs with. */
export type NodeSavedJwk =
	| (EcPrivateJwk & { alg?: 'ES256' | 'ES384' | 'ES512' })
	| (RsaPrivateJwk & { alg?: 'PS256' | 'PS384' | 'PS512' | 'RS256' | 'RS384' | 'RS512' })
	| (Omit<Secp256k1PrivateJwk, 'alg'> & { alg?: 'ES256K' });

/**
 * a session as `@atproto/oauth-client-node` stores it (its `NodeSavedSession`, keyed by DID): the
 * DPoP private key as `dpopJwk` (with no `alg` when that client made it), and `expires_at` as an
 * ISO date. described here, not imported, so that moving needs no dependency on that package.
 */
export interface NodeSavedSession {
	/** the session's DPoP private key; ES256K (secp256k1) when the server offered it. */
	dpopJwk: NodeSavedJwk;
	/**
	 * how the session authenticates; early releases of that client stored none (see
	 * `fromNodeSavedSession`'s `authMethod` option).
	 */
	authMethod: ClientAuthMethod;
	tokenSet: {
		iss: string;
		/** the account: atproto's DID methods only, as that client types it. */
		sub: AtprotoDid;
		aud: string;
		scope: AtprotoScope;
		access_token: string;
		refresh_token?: string;
		token_type: 'DPoP';
		/** an ISO date. */
		expires_at?: string;
	};
}

/** options for `fromNodeSavedSession`. */
export interface FromNodeSavedSessionOptions {
	/**
	 * the client authentication for a session stored without one (that client then signs with the
	 * first key of its keyset): `{ method: 'private_key_jwt', kid }` with that key's `kid`.
	 */
	authMethod?: ClientAuthMethod | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * the algorithm of each curve a DPoP key may be on (RFC 7518 §3.4, RFC 8812 §3.2). a Map: a curve
 * named after an object's own member ("constructor") finds nothing.
 */
const ALG_BY_CURVE: ReadonlyMap<unknown, DpopAlgorithm> = new Map([
	['P-256', 'ES256'],
	['P-384', 'ES384'],
	['P-521', 'ES512'],
	['secp256k1', 'ES256K'],
]);

const RSA_ALGS: ReadonlySet<unknown> = new Set(['PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512']);

/** throws a `TypeError` for `problem`, under the name of the conversion that met it. */
type Fail = (problem: string) => never;

const failIn =
	(conversion: string): Fail =>
	(problem) => {
		throw new TypeError(`${conversion}: ${problem}`);
	};

/** the members of `jwk` named in `fields`, each a non-empty string; messages never quote values. */
const keyMembers = (
	jwk: Record<string, unknown>,
	fields: readonly string[],
	fail: Fail,
): Record<string, string> => {
	const members: Record<string, string> = {};
	for (const field of fields) {
		const value = jwk[field];
		if (typeof value !== 'string' || value === '') {
			fail(
				field === 'd'
					? 'dpopJwk has no "d": it is not a private key'
					: `dpopJwk's "${field}" is not a string`,
			);
		}
		members[field] = value as string;
	}
	return members;
};

/** the stored DPoP key: key members only (no `kid`, `use`, `key_ops`), with the `alg` it signs with. */
const dpopKeyOf = (jwk: unknown, fail: Fail): DpopPrivateJwk => {
	if (!isObject(jwk)) return fail('dpopJwk is not a JWK object');
	if (jwk.kty === 'EC') {
		const alg = ALG_BY_CURVE.get(jwk.crv);
		if (alg === undefined) return fail('dpopJwk is on a curve other than P-256, P-384, P-521 or secp256k1');
		if (jwk.alg !== undefined && jwk.alg !== alg) fail(`dpopJwk's "alg" is not ${alg}, its curve's`);
		return { ...keyMembers(jwk, ['kty', 'crv', 'x', 'y', 'd'], fail), alg } as DpopPrivateJwk;
	}
	if (jwk.kty === 'RSA') {
		// the token is bound to the key, not to an algorithm, but an RSA key does not say which one
		// the server accepted from it
		if (!RSA_ALGS.has(jwk.alg)) return fail('dpopJwk is an RSA key without an "alg" (PS256 … RS512)');
		const members = keyMembers(jwk, ['kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'], fail);
		return { ...members, alg: jwk.alg } as DpopPrivateJwk;
	}
	return fail('dpopJwk\'s "kty" is neither "EC" nor "RSA"');
};

const authMethodOf = (value: unknown, fail: Fail): ClientAuthMethod => {
	if (value === undefined) {
		return fail(
			'authMethod is missing (stored by a release of @atproto/oauth-client from before it recorded ' +
				"one): pass { authMethod: { method: 'private_key_jwt', kid } } with the kid of that client's first key",
		);
	}
	if (isObject(value) && value.method === 'none') return { method: 'none' };
	if (
		isObject(value) &&
		value.method === 'private_key_jwt' &&
		typeof value.kid === 'string' &&
		value.kid !== ''
	) {
		return { method: 'private_key_jwt', kid: value.kid };
	}
	return fail('authMethod is neither { method: "private_key_jwt", kid } nor { method: "none" }');
};

const tokenSetOf = (value: unknown, fail: Fail): TokenSet => {
	if (!isObject(value)) return fail('tokenSet is not an object');
	for (const field of ['iss', 'sub', 'aud', 'scope', 'access_token'] as const) {
		if (typeof value[field] !== 'string' || value[field] === '') fail(`tokenSet.${field} is not a string`);
	}
	if (!isAtprotoDid(value.sub as string)) fail('tokenSet.sub is not a did:plc or did:web DID');
	if (value.token_type !== 'DPoP') fail('tokenSet.token_type is not "DPoP"');
	const { refresh_token, expires_at } = value;
	if (refresh_token !== undefined && (typeof refresh_token !== 'string' || refresh_token === '')) {
		fail('tokenSet.refresh_token is not a string');
	}
	// stored as text there, as milliseconds here: a date left as text would never count as stale
	const expiresAt =
		expires_at === undefined
			? undefined
			: typeof expires_at === 'string'
				? Date.parse(expires_at)
				: Number.NaN;
	if (expiresAt !== undefined && !Number.isFinite(expiresAt)) fail('tokenSet.expires_at is not an ISO date');
	return {
		iss: value.iss as string,
		sub: value.sub as TokenSet['sub'],
		aud: value.aud as string,
		scope: value.scope as string,
		access_token: value.access_token as string,
		...(refresh_token === undefined ? {} : { refresh_token: refresh_token as string }),
		token_type: 'DPoP',
		...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
	};
};

/**
 * converts a session that `@atproto/oauth-client-node` stored to what this client stores, so that
 * an app moving here keeps its users signed in. the session keeps its DPoP key, since its tokens
 * are bound to it; that client's keys are usually ES256K, which WebCrypto cannot sign with, so
 * such a session restores only where node:crypto does (Node, Deno). the result's refresh margin is the full 60 s (that client
 * stored no issue time).
 * @throws {TypeError} naming the member that is missing or malformed, never its value
 */
export const fromNodeSavedSession = (
	saved: unknown,
	options: FromNodeSavedSessionOptions = {},
): StoredSession => {
	const fail = failIn('fromNodeSavedSession');
	if (!isObject(saved)) return fail('the saved session is not an object');
	const dpopKey = dpopKeyOf(saved.dpopJwk, fail);
	const authMethod = authMethodOf(saved.authMethod ?? options.authMethod, fail);
	const tokenSet = tokenSetOf(saved.tokenSet, fail);
	return { dpopKey, authMethod, tokenSet };
};

/**
 * converts a session this client stored to what `@atproto/oauth-client-node` stores: the way back,
 * for an app that returns to that client without signing its users out. `issued_at` and
 * `refused_on_arrival`, which that client does not know, are left out.
 */
export const toNodeSavedSession = (session: StoredSession): NodeSavedSession => {
	const { iss, sub, aud, scope, access_token, refresh_token, expires_at } = session.tokenSet;
	// that client types its accounts so; this one's are resolved the same way
	if (!isAtprotoDid(sub))
		throw new TypeError('toNodeSavedSession: tokenSet.sub is not a did:plc or did:web DID');
	if (!isAtprotoScope(scope)) throw new TypeError('toNodeSavedSession: tokenSet.scope has no "atproto"');
	const expiresAt = expires_at === undefined ? undefined : new Date(expires_at);
	if (expiresAt !== undefined && Number.isNaN(expiresAt.getTime())) {
		throw new TypeError('toNodeSavedSession: tokenSet.expires_at is not a time');
	}
	return {
		// with its alg, which that client reads to sign with the same algorithm (an alg that fits
		// its key type: importDpopKey checks that at every restore)
		dpopJwk: { ...session.dpopKey } as NodeSavedJwk,
		authMethod: { ...session.authMethod },
		tokenSet: {
			iss,
			sub,
			aud,
			scope,
			access_token,
			...(refresh_token === undefined ? {} : { refresh_token }),
			token_type: 'DPoP',
			...(expiresAt === undefined ? {} : { expires_at: expiresAt.toISOString() }),
		},
	};
};

/** options for `fromNodeSavedState`. */
export interface FromNodeSavedStateOptions {
	/**
	 * the redirect URI the sign-in was started with: that client does not store it. the first of
	 * its `redirect_uris`, unless `authorize()` was given another.
	 */
	redirectUri: string;
	/** the client authentication for a state stored without one (see `fromNodeSavedSession`). */
	authMethod?: ClientAuthMethod | undefined;
	/** how long the sign-in has left to complete, in milliseconds (default 10 minutes, a day at most). */
	ttl?: number | undefined;
	/** the clock (default `Date.now`). */
	now?: (() => number) | undefined;
}

/** how long a moved sign-in has to complete by default: as long as one started here. */
const STATE_TTL_MS = 10 * 60 * 1000;

/** the longest `ttl`: a sign-in is minutes long, and a store must be able to keep the expiry. */
const MAX_STATE_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * converts a sign-in under way that `@atproto/oauth-client-node` stored in its `stateStore` (its
 * `NodeSavedState`: `iss`, `dpopJwk`, `authMethod`, `verifier`, `appState`), keyed by the OAuth
 * `state`, to what this client stores under the same key: a user who started signing in on the
 * old client completes it here. `callback()` then hands back its `appState` as `state`; it checks
 * no expected account (that client stored none).
 * @throws {TypeError} naming the member that is missing or malformed, never its value
 */
export const fromNodeSavedState = (saved: unknown, options: FromNodeSavedStateOptions): StoredState => {
	const fail = failIn('fromNodeSavedState');
	const { redirectUri, ttl = STATE_TTL_MS, now = Date.now } = options;
	if (typeof redirectUri !== 'string' || !URL.canParse(redirectUri)) {
		return fail('options.redirectUri is not a URL (that client does not store it)');
	}
	if (!Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_STATE_TTL_MS) {
		return fail('options.ttl is not a positive number of milliseconds, a day at most');
	}
	if (!isObject(saved)) return fail('the saved state is not an object');
	if (typeof saved.iss !== 'string' || !URL.canParse(saved.iss)) return fail('iss is not a URL');
	if (typeof saved.verifier !== 'string' || saved.verifier === '') return fail('verifier is not a string');
	// a store may give back an absent value as null (a NULL column), which that client reads as none
	const appState = saved.appState ?? undefined;
	if (appState !== undefined && typeof appState !== 'string') return fail('appState is not a string');
	return {
		issuer: saved.iss,
		dpopKey: dpopKeyOf(saved.dpopJwk, fail),
		authMethod: authMethodOf(saved.authMethod ?? options.authMethod, fail),
		verifier: saved.verifier,
		redirectUri,
		...(appState === undefined ? {} : { appState }),
		expiresAt: now() + ttl,
	};
};
