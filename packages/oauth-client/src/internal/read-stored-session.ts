import type { Did } from '@atcute/lexicons';

import { UnreadableSessionError } from '../errors.ts';
import type { StoredSession } from '../stored-types.ts';

const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null;

/** what a client asks of the sessions it reads beyond their shape. */
export interface StoredSessionRules {
	/** the client's `allowHttp`: without it, the PDS (`aud`) and issuer must be `https:` URLs. */
	allowHttp: boolean;
	/** the client's `client_id`: a session stored by another is refused. */
	clientId: string;
}

/** whether a stored value is a session of a client with another `client_id`. */
export const storedByAnotherClient = (value: unknown, clientId: string): boolean =>
	isObject(value) && value.clientId !== undefined && value.clientId !== clientId;

// a URL the client may send a token to or over without `allowHttp`
const HTTPS = /^https:\/\//i;

/** what is wrong with a stored session, naming the field; undefined when it can be used. */
const problemOf = (value: unknown, allowHttp: boolean, clientId: string): string | undefined => {
	if (!isObject(value)) return 'it is not an object';
	if (storedByAnotherClient(value, clientId)) {
		// another app's grant: neither used nor ended here (its own client refreshes it)
		return `it was stored by another client (client_id ${JSON.stringify(String(value.clientId).slice(0, 256))}): give each client_id its own session store`;
	}
	const { dpopKey, authMethod, tokenSet } = value;
	if (!isObject(dpopKey) || typeof dpopKey.kty !== 'string') return 'dpopKey is not a JWK';
	if (!isObject(authMethod)) return 'authMethod is not an object';
	if (authMethod.method === 'private_key_jwt') {
		if (typeof authMethod.kid !== 'string') return 'authMethod.kid is not a string';
	} else if (authMethod.method !== 'none') {
		return 'authMethod.method is neither "private_key_jwt" nor "none"';
	}
	if (!isObject(tokenSet)) return 'tokenSet is not an object';
	for (const field of ['iss', 'aud', 'access_token'] as const) {
		if (typeof tokenSet[field] !== 'string' || tokenSet[field] === '')
			return `tokenSet.${field} is not a string`;
	}
	// a session a development client stored (on a shared store, or moved by hand) names a
	// plain-http PDS or issuer: a client that does not allow http sends no token there
	for (const field of ['aud', 'iss'] as const) {
		if (!allowHttp && !HTTPS.test(tokenSet[field] as string)) {
			return `tokenSet.${field} is not an https: URL, and this client does not allow plain http (allowHttp)`;
		}
	}
	for (const field of ['expires_at', 'issued_at'] as const) {
		// a date written as text would never count as stale
		if (tokenSet[field] !== undefined && !Number.isFinite(tokenSet[field])) {
			return `tokenSet.${field} is not a number of milliseconds`;
		}
	}
	if (tokenSet.refresh_token !== undefined && typeof tokenSet.refresh_token !== 'string') {
		return 'tokenSet.refresh_token is not a string';
	}
	return undefined;
};

/**
 * a session read from the store, checked for what the client uses before anything is sent: a
 * malformed one would otherwise fail deep inside with a bare `TypeError`, or, with a bad
 * `authMethod`, be ended as if its key had left the keyset. without `allowHttp`, its PDS (`aud`) and
 * issuer must be `https:` URLs; a session stored by a client of another `client_id` is refused.
 * @throws {UnreadableSessionError} naming the field; the session is kept
 */
export const readStoredSession = (
	did: Did,
	value: StoredSession,
	rules: StoredSessionRules,
): StoredSession => {
	const problem = problemOf(value, rules.allowHttp, rules.clientId);
	if (problem !== undefined) throw new UnreadableSessionError(did, problem);
	return value;
};
