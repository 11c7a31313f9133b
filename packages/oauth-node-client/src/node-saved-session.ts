import type { ClientAuthMethod, StoredSession, TokenSet } from '@atcute/oauth-client';
import type { Secp256k1PrivateJwk } from '@atcute/oauth-dpop';
import type { EcPrivateJwk, RsaPrivateJwk } from '@atcute/oauth-keys';

import { authMethodOf, dpopKeyOf, type Fail, failIn, isObject } from './internal/node-saved-fields.ts';

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
		// that client's shape: without the key thumbprint this client records
		authMethod:
			session.authMethod.method === 'private_key_jwt'
				? { method: 'private_key_jwt', kid: session.authMethod.kid }
				: { method: 'none' },
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
