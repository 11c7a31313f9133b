import type { Did, Handle } from '@atcute/lexicons';
import {
	CANONICAL_ATPROTO_DID,
	disallowedTldOf,
	HANDLE,
	webHostProblem,
} from '@atcute-oauth/internal/atproto-names';

import { IdentityResolutionError } from '../errors.ts';
import { quoted } from './quoted.ts';

/**
 * `text` with A-Z lower-cased, and nothing else: a Unicode lower-casing maps a few other characters
 * (the Kelvin sign) into ASCII, which the ASCII-only handle pattern would then take.
 */
export const lowerAscii = (text: string): string => text.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());

/** whether `name`, in lower case, is a handle by its syntax (whatever its TLD). */
export const isHandle = (name: string): boolean => HANDLE.test(name);

/** longer than any handle (253) or did:web (a 253-character host, a port): refused unread. */
const MAX_IDENTIFIER = 2048;

/** a handle (in lower case) or DID, as the user's input names it. */
export type AccountIdentifier = { type: 'handle'; handle: Handle } | { type: 'did'; did: Did };

/** options of `parseAccountIdentifier`. */
export interface ParseAccountIdentifierOptions {
	/** takes `did:web:localhost` (and a port on it), for testing: the client's `allowHttp`. */
	allowLocalhost: boolean;
}

/**
 * reads what the user typed as an account: a leading `@` or `at://` dropped, a handle lower-cased.
 * @throws {IdentityResolutionError} `invalid_identifier` for anything else, before any request
 */
export const parseAccountIdentifier = (
	input: string,
	{ allowLocalhost }: ParseAccountIdentifierOptions,
): AccountIdentifier => {
	const refuse = (detail: string): never => {
		throw new IdentityResolutionError(quoted(input), { reason: 'invalid_identifier', detail });
	};
	if (input === '') return refuse('no handle or DID was given');
	if (input.length > MAX_IDENTIFIER)
		return refuse(`longer than ${MAX_IDENTIFIER} characters: not a handle or DID`);
	const value = input.replace(/^(?:@|at:\/\/)/i, '');
	if (/^did:/i.test(value)) {
		if (!CANONICAL_ATPROTO_DID.test(value)) {
			return refuse('not an atproto DID in canonical form (did:plc:… or did:web:<host>, in lower case)');
		}
		// a did:web is fetched from its host, on what a visitor typed: held to atproto's rules first
		const problem = value.startsWith('did:web:') ? webHostProblem(value, allowLocalhost) : undefined;
		if (problem !== undefined) return refuse(`not an atproto did:web: ${problem}`);
		return { type: 'did', did: value as Did };
	}
	const handle = lowerAscii(value);
	if (HANDLE.test(handle)) {
		const tld = disallowedTldOf(handle);
		if (tld !== undefined) return refuse(`handles under .${tld} are not allowed in atproto`);
		return { type: 'handle', handle: handle as Handle };
	}
	if (value.includes('://') || /^https?:/i.test(value)) {
		return refuse(
			`not a handle or DID; to sign in through a server, use the target { type: 'pds', serviceUrl }`,
		);
	}
	return refuse('not a handle or DID');
};
