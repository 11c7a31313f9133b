import type { Did, Handle } from '@atcute/lexicons';

import { IdentityResolutionError } from '../errors.ts';
import { tracedText } from './traced-text.ts';

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

// a DNS label in lower case: 1-63 letters, digits or hyphens, no hyphen at either end (a did:web
// host, as the DID names it: DIDs are case-sensitive; and a handle, once lower-cased)
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';

/**
 * an atproto handle, lower-cased: two labels or more, 253 characters at most, the last not
 * starting with a digit. written here rather than imported: `@atcute/lexicons` is only a peer
 * (its types), and a runtime import of it would fail where peers are not installed.
 * @see https://atproto.com/specs/handle#handle-identifier-syntax
 */
const HANDLE = new RegExp(`^(?=.{1,253}$)(?:${LABEL}\\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$`);

/**
 * an atproto DID in canonical form: `did:plc:` and 24 base32 characters, or `did:web:` and a
 * host name in lower case (a port only percent-encoded, `%3A`; no path: atproto has none). the
 * host's own rules are `webHostProblem`'s.
 * @see https://atproto.com/specs/did
 */
const CANONICAL_ATPROTO_DID = new RegExp(
	`^did:(?:plc:[a-z2-7]{24}|web:${LABEL}(?:\\.${LABEL})*(?:%3A[0-9]{1,5})?)$`,
);

/**
 * what atproto refuses in a canonical did:web's host and port, or undefined: the handle's rules
 * (the last label not starting with a digit, which rules out an IP address, and no disallowed
 * TLD), and a port only on `localhost`, which itself is for testing only (`allowLocalhost`).
 * @see https://atproto.com/specs/did#blessed-did-methods
 */
const webHostProblem = (did: string, allowLocalhost: boolean): string | undefined => {
	const [host, port] = did.slice('did:web:'.length).split('%3A') as [string, string | undefined];
	if (host === 'localhost') {
		if (!allowLocalhost) return 'did:web:localhost is for testing only (allowHttp)';
		if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535))
			return `port ${port} does not exist`;
		return undefined;
	}
	if (port !== undefined) return 'a did:web names a port only on localhost, in testing';
	// a host is a handle by its syntax: two labels or more, the last not starting with a digit
	if (!HANDLE.test(host)) return 'its host is not a domain name';
	const tld = disallowedTldOf(host);
	return tld === undefined ? undefined : `did:web hosts under .${tld} are not allowed in atproto`;
};

/** the TLD of a domain name when atproto disallows it, or undefined. */
const disallowedTldOf = (domain: string): string | undefined => {
	const tld = domain.slice(domain.lastIndexOf('.') + 1);
	return DISALLOWED_TLDS.has(tld) ? tld : undefined;
};

/**
 * `text` with A-Z lower-cased, and nothing else: a Unicode lower-casing maps a few other characters
 * (the Kelvin sign) into ASCII, which the ASCII-only handle pattern would then take.
 */
export const lowerAscii = (text: string): string => text.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());

/** whether `name`, in lower case, is a handle by its syntax (whatever its TLD). */
export const isHandle = (name: string): boolean => HANDLE.test(name);

/** longer than any handle (253) or did:web (a 253-character host, a port): refused unread. */
const MAX_IDENTIFIER = 2048;

/** how much of a refused input its error quotes: longer than any handle or DID. */
const MAX_QUOTED = 256;

/**
 * C0 and C1 controls, DEL, format characters (bidi overrides such as U+202E, which reorder what a
 * log viewer shows) and the two Unicode line breaks: what must not reach a log line as it is.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/**
 * a refused input as its error names it: cut, and with control characters escaped (`\u000a`), so
 * an app that logs the error writes one line of bounded length, whatever the visitor typed
 */
const quoted = (input: string): string => {
	const cut = input.length > MAX_QUOTED ? `${tracedText(input, MAX_QUOTED)}…` : input;
	return cut.replace(UNPRINTABLE, (c) => {
		const code = c.codePointAt(0)!;
		return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
	});
};

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
