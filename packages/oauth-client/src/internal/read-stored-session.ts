import type { Did } from '@atcute/lexicons';

import { UnreadableSessionError } from '../errors.ts';
import type { StoredSession } from '../stored-types.ts';

const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null;

/** what is wrong with a stored session, naming the field; undefined when it can be used. */
const problemOf = (value: unknown): string | undefined => {
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
 * `authMethod`, be ended as if its key had left the keyset.
 * @throws {UnreadableSessionError} naming the field; the session is kept
 */
export const readStoredSession = (did: Did, value: StoredSession): StoredSession => {
	const problem = problemOf(value);
	if (problem !== undefined) throw new UnreadableSessionError(did, problem);
	return value;
};
