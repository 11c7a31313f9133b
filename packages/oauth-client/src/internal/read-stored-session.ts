import type { Did } from '@atcute/lexicons';
import { kindOf } from '@atcute-oauth/internal/kind-of';

import { isLoopbackClientId } from '../client-metadata.ts';
import { SessionNotFoundError, UnreadableSessionError } from '../errors.ts';
import type { StoredSession } from '../stored-types.ts';

const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null;

/** what a client asks of the sessions it reads beyond their shape. */
export interface StoredSessionRules {
	/** the client's `allowHttp`: without it, the PDS (`aud`) and issuer must be `https:` URLs. */
	allowHttp: boolean;
	/** the client's `client_id`: a session another client stored reads as none (`otherClientOf`). */
	clientId: string;
}

/**
 * the `client_id` a stored value was stored by when that is another client than `clientId`,
 * else undefined (ours, or stored without one). loopback clients are one client whatever their
 * `client_id`'s query (its redirect URI's port, its scope): a development app restarted on
 * another port keeps its sessions, as it did.
 */
export const otherClientOf = (value: unknown, clientId: string): string | undefined => {
	if (!isObject(value) || value.clientId === undefined || value.clientId === clientId) return undefined;
	// not String(): a deeply nested array (JSON.parse makes one of 60 KB) throws a RangeError there
	const stored = typeof value.clientId === 'string' ? value.clientId : kindOf(value.clientId);
	return isLoopbackClientId(stored) && isLoopbackClientId(clientId) ? undefined : stored;
};

/**
 * whether a stored value names another account than `did` as its own (`tokenSet.sub`): a store
 * that matched `did` to another key (a table under a case-insensitive collation, a key spelt
 * otherwise) handed back another DID's session, which would be used, locked, refreshed or signed
 * out under this DID's name. a value without a `sub` is not judged here.
 */
export const otherAccountOf = (value: unknown, did: Did): boolean => {
	const sub = isObject(value) && isObject(value.tokenSet) ? value.tokenSet.sub : undefined;
	return typeof sub === 'string' && sub !== did;
};

/** the JWK members that are text in every key type (RFC 7517, RFC 7518 §6). */
const JWK_TEXT_MEMBERS = [
	'alg',
	'crv',
	'x',
	'y',
	'd',
	'n',
	'e',
	'p',
	'q',
	'dp',
	'dq',
	'qi',
	'use',
	'kid',
] as const;

/**
 * the first member of a stored JWK that should be text and is not, else undefined. a key import
 * reads them, the key cache is keyed by them and messages name them: another shape (a deeply
 * nested array, as JSON.parse makes of 60 KB) would fail with a RangeError from a template
 * literal or JSON.stringify, naming nothing.
 */
export const nonTextJwkMember = (jwk: Record<string, unknown>): string | undefined =>
	JWK_TEXT_MEMBERS.find((member) => jwk[member] !== undefined && typeof jwk[member] !== 'string');

// a URL the client may send a token to or over without `allowHttp`
const HTTPS = /^https:\/\//i;

/**
 * the format version of the stored records this version reads. absent from every record stored so
 * far, and read as 1. a release that changes a record in a way this one would misread (a field
 * renamed, or one whose meaning changed: a thumbprint of another kind, the refresh token moved)
 * writes a higher `v`, which this one refuses, keeping the record, rather than use it, rewrite it as
 * its own shape on a refresh, or end it. fields it does not know are no reason: they are kept.
 */
export const STORED_FORMAT_VERSION = 1;

/** a `v` that is text, shown when it is a short number ("2"): anything else is named by its kind. */
const SHORT_NUMBER = /^-?\d{1,6}$/;

/**
 * why a stored record's `v` is not one this version reads, else undefined. only a higher integer
 * is a newer release's format (the way on: upgrade this process); any other (0, 1.5, text) is no
 * release's, and said so, rather than sending an operator to upgrade for a damaged record.
 */
export const formatVersionProblemOf = (value: Record<string, unknown>): string | undefined => {
	const { v } = value;
	if (v === undefined || v === STORED_FORMAT_VERSION) return undefined;
	if (Number.isSafeInteger(v) && (v as number) > STORED_FORMAT_VERSION) {
		return `it was written in a newer format (v: ${v}) than the ${STORED_FORMAT_VERSION} this version reads`;
	}
	// not String(): a deeply nested array (JSON.parse makes one of 60 KB) throws a RangeError there;
	// nor any text: the record holds secrets, and a field written by mistake could be one
	const written =
		typeof v === 'number'
			? `${v}`
			: typeof v === 'string' && SHORT_NUMBER.test(v)
				? JSON.stringify(v)
				: kindOf(v);
	return `its format version (v: ${written}) is none a release of this library writes, and not the ${STORED_FORMAT_VERSION} this version reads`;
};

/** what is wrong with a stored session, naming the field; undefined when it can be used. */
const problemOf = (value: unknown, allowHttp: boolean): string | undefined => {
	if (!isObject(value)) return 'it is not an object';
	// first: a newer format may fail the checks below for reasons that would mislead
	const newer = formatVersionProblemOf(value);
	if (newer !== undefined) return newer;
	const { dpopKey, authMethod, tokenSet } = value;
	if (!isObject(dpopKey) || typeof dpopKey.kty !== 'string') return 'dpopKey is not a JWK';
	const member = nonTextJwkMember(dpopKey);
	if (member !== undefined) return `dpopKey.${member} is not a string`;
	if (!isObject(authMethod)) return 'authMethod is not an object';
	if (authMethod.method === 'private_key_jwt') {
		if (typeof authMethod.kid !== 'string') return 'authMethod.kid is not a string';
		if (authMethod.jkt !== undefined && typeof authMethod.jkt !== 'string')
			return 'authMethod.jkt is not a string';
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
	// read by session.allows() and getTokenInfo(): another shape, or none (every token response
	// carries one), would throw there, not here
	if (typeof tokenSet.scope !== 'string') {
		return 'tokenSet.scope is not a string';
	}
	return undefined;
};

/**
 * a session read from the store, checked for what the client uses before anything is sent: a
 * malformed one would otherwise fail deep inside with a bare `TypeError`, or, with a bad
 * `authMethod`, be ended as if its key had left the keyset. without `allowHttp`, its PDS (`aud`) and
 * issuer must be `https:` URLs.
 * @throws {SessionNotFoundError} for a session a client of another `client_id` stored (`storedBy`)
 * @throws {UnreadableSessionError} naming the field; the session is kept
 */
export const readStoredSession = (
	did: Did,
	value: StoredSession,
	rules: StoredSessionRules,
): StoredSession => {
	// another app's grant (or this app's under a client_id it left): none of this client's. it is
	// neither used (its tokens were not issued to us) nor ended here
	const storedBy = otherClientOf(value, rules.clientId);
	if (storedBy !== undefined) throw new SessionNotFoundError(did, storedBy);
	// another account's session, under a key the store matched to this DID: none of this DID's
	if (otherAccountOf(value, did)) throw new SessionNotFoundError(did);
	const problem = problemOf(value, rules.allowHttp);
	if (problem !== undefined) throw new UnreadableSessionError(did, problem);
	return value;
};
