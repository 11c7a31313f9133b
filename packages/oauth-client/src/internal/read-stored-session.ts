import type { Did } from '@atcute/lexicons';

import { UnreadableSessionError } from '../errors.ts';
import type { StoredSession } from '../stored-types.ts';

const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null;

// a URL the client may send a token to or over without `allowHttp`
const HTTPS = /^https:\/\//i;

/** what is wrong with a stored session, naming the field; undefined when it can be used. */
const problemOf = (value: unknown, allowHttp: boolean): string | undefined => {
	if (!isObject(value)) return 'it is not an object';
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
 * issuer must be `https:` URLs.
 * @throws {UnreadableSessionError} naming the field; the session is kept
 */
export const readStoredSession = (did: Did, value: StoredSession, allowHttp: boolean): StoredSession => {
	const problem = problemOf(value, allowHttp);
	if (problem !== undefined) throw new UnreadableSessionError(did, problem);
	return value;
};
