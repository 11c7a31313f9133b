import type { Did, Handle } from '@atcute/lexicons';
import { isHandle } from '@atcute/lexicons/syntax';

import { IdentityResolutionError } from '../errors.ts';

/**
 * the top-level domains the atproto handle spec disallows: never resolved. `.test` is allowed,
 * for testing.
 * @see https://atproto.com/specs/handle
 */
const DISALLOWED_TLDS = new Set([
	'alt',
	'arpa',
	'example',
	'internal',
	'invalid',
	'local',
	'localhost',
	'onion',
]);

// a did:web host label: letters in lower case, as the DID names it (DIDs are case-sensitive)
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';

/**
 * an atproto DID in canonical form: `did:plc:` and 24 base32 characters, or `did:web:` and a
 * host name in lower case (a port only percent-encoded, `%3A`; no path: atproto has none).
 * @see https://atproto.com/specs/did
 */
const CANONICAL_ATPROTO_DID = new RegExp(
	`^did:(?:plc:[a-z2-7]{24}|web:${LABEL}(?:\\.${LABEL})*(?:%3A[0-9]{1,5})?)$`,
);

/** a handle (in lower case) or DID, as the user's input names it. */
export type AccountIdentifier = { type: 'handle'; handle: Handle } | { type: 'did'; did: Did };

/**
 * reads what the user typed as an account: a leading `@` or `at://` dropped, a handle lower-cased.
 * @throws {IdentityResolutionError} `invalid_identifier` for anything else, before any request
 */
export const parseAccountIdentifier = (input: string): AccountIdentifier => {
	const value = input.replace(/^(?:@|at:\/\/)/i, '');
	const refuse = (detail: string): never => {
		throw new IdentityResolutionError(input, { reason: 'invalid_identifier', detail });
	};
	if (/^did:/i.test(value)) {
		if (CANONICAL_ATPROTO_DID.test(value)) return { type: 'did', did: value as Did };
		return refuse('not an atproto DID in canonical form (did:plc:… or did:web:<host>, in lower case)');
	}
	const handle = value.toLowerCase();
	if (isHandle(handle)) {
		const tld = handle.slice(handle.lastIndexOf('.') + 1);
		if (DISALLOWED_TLDS.has(tld)) return refuse(`handles under .${tld} are not allowed in atproto`);
		return { type: 'handle', handle };
	}
	if (value.includes('://') || /^https?:/i.test(value)) {
		return refuse(
			`not a handle or DID; to sign in through a server, use the target { type: 'pds', serviceUrl }`,
		);
	}
	return refuse('not a handle or DID');
};
