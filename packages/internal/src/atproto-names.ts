// shared by @atcute/oauth-client (what a visitor types) and @atcute/oauth-node-client (what a
// handle's host answers): one set of atproto's rules for handles and DIDs

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
export const HANDLE: RegExp = new RegExp(`^(?=.{1,253}$)(?:${LABEL}\\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$`);

/**
 * an atproto DID in canonical form: `did:plc:` and 24 base32 characters, or `did:web:` and a
 * host name in lower case (a port only percent-encoded, `%3A`; no path: atproto has none). the
 * host's own rules are `webHostProblem`'s.
 * @see https://atproto.com/specs/did
 */
export const CANONICAL_ATPROTO_DID: RegExp = new RegExp(
	`^did:(?:plc:[a-z2-7]{24}|web:${LABEL}(?:\\.${LABEL})*(?:%3A[0-9]{1,5})?)$`,
);

/**
 * what atproto refuses in a canonical did:web's host and port, or undefined: the handle's rules
 * (the last label not starting with a digit, which rules out an IP address, and no disallowed
 * TLD), and a port only on `localhost`, which itself is for testing only (`allowLocalhost`).
 * @see https://atproto.com/specs/did#blessed-did-methods
 */
export const webHostProblem = (did: string, allowLocalhost: boolean): string | undefined => {
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
export const disallowedTldOf = (domain: string): string | undefined => {
	const tld = domain.slice(domain.lastIndexOf('.') + 1);
	return DISALLOWED_TLDS.has(tld) ? tld : undefined;
};

/**
 * why `did` is no atproto DID in canonical form (`did:plc:` and 24 base32 characters, or a
 * `did:web:` host held to the handle's rules), or undefined when it is one. `allowLocalhost` takes
 * `did:web:localhost`, with or without a port, which atproto keeps for testing.
 */
export const atprotoDidProblem = (did: string, allowLocalhost: boolean): string | undefined => {
	if (!CANONICAL_ATPROTO_DID.test(did)) return 'not did:plc:… or did:web:<host>, in canonical form';
	return did.startsWith('did:web:') ? webHostProblem(did, allowLocalhost) : undefined;
};
