import { encodeJwtSegment, publicJwkOf, randomId, signJwt } from '@atcute/oauth-keys';

import type { DpopKey } from './dpop-key.ts';
import { checkDpopKey } from './internal/check-dpop-key.ts';

/** the claims of one DPoP proof. */
export interface DpopProofOptions {
	/** the HTTP method of the request. */
	htm: string;
	/** the request URL; signed as `toHtu` gives it: origin and path, no query or fragment. */
	htu: string;
	/** the server's latest `DPoP-Nonce`, when one is known. */
	nonce?: string | undefined;
	/** base64url SHA-256 of the access token, on requests to a resource server (`computeAth`). */
	ath?: string | undefined;
	/** issued-at, in seconds since the epoch; default now. */
	iat?: number | undefined;
}

// the header (typ, alg, public jwk) never changes for a key: encode it once
const headers = new WeakMap<DpopKey, string>();

// an iat above this is milliseconds (Date.now()), not seconds: as seconds it would be past the
// year 5000, and as milliseconds it is any time after March 1973
const IAT_MAX_SECONDS = 1e11;

// htu is compared with the URL the server was asked for: it must be absolute and http(s)
const HTTP_URL_RE = /^https?:\/\//i;

// a URL's scheme (if any) and the user information after it, up to its `@`
const USERINFO_RE = /^([a-z][a-z\d+.-]*:\/\/)?[^/?#]*@/i;

/** the URL cut at its query or fragment, whichever comes first: for messages about a URL that does not parse. */
const withoutQueryAndFragment = (url: string): string => {
	const query = url.indexOf('?');
	const fragment = url.indexOf('#');
	const end = query === -1 ? fragment : fragment === -1 ? query : Math.min(query, fragment);
	return end === -1 ? url : url.slice(0, end);
};

/** what is wrong with an htu (after "htu "), or undefined when a proof can carry it. */
const checkHtu = (htu: unknown): string | undefined => {
	if (typeof htu !== 'string') {
		return `must be an absolute http(s) URL, got ${typeof htu}`;
	}
	if (!HTTP_URL_RE.test(htu) || !URL.canParse(htu)) {
		// without its query and fragment, which may hold secrets (a code, a token), nor what comes
		// before an `@` (`ftp://user:pass@host/`, or `user:pass@host` with no scheme)
		const shown = withoutQueryAndFragment(htu).replace(USERINFO_RE, '$1');
		return `must be an absolute http(s) URL, got ${JSON.stringify(shown)}`;
	}
	const url = new URL(htu);
	if (url.username !== '' || url.password !== '') {
		// signed into the proof, they would be read by every server it reaches (not repeated here)
		return 'must not contain credentials (a user name or password)';
	}
	return undefined;
};

/**
 * the `htu` of a parsed URL, as servers compare it, and the one place it is made (`toHtu`,
 * `createDpopProof` and `createDpopFetch` all sign or give this): the origin (scheme and host
 * lower-cased, no default port) and the path, resolved and percent-encoded; no query or fragment
 * (RFC 9449 §4.3).
 */
export const htuOf = (url: URL): string => url.origin + url.pathname;

/** what is wrong with the claims, or undefined when they are fine. */
const checkClaims = (options: DpopProofOptions, iat: unknown): string | undefined => {
	const { htm, htu, nonce, ath } = options;
	if (typeof htm !== 'string' || htm === '') {
		return `htm must be an HTTP method, got ${htm === '' ? 'an empty string' : typeof htm}`;
	}
	const htuProblem = checkHtu(htu);
	if (htuProblem !== undefined) {
		return `htu ${htuProblem}`;
	}
	if (nonce !== undefined && typeof nonce !== 'string') {
		return `nonce must be a string, got ${nonce === null ? 'null' : typeof nonce}`;
	}
	if (ath !== undefined && typeof ath !== 'string') {
		return `ath must be a string (computeAth of the access token), got ${ath === null ? 'null' : typeof ath}`;
	}
	if (typeof iat !== 'number') {
		return `iat must be whole seconds since the epoch, got ${iat === null ? 'null' : typeof iat}`;
	}
	if (Number.isSafeInteger(iat) && iat > IAT_MAX_SECONDS) {
		return `iat must be whole seconds since the epoch, got ${iat}, which is milliseconds: divide by 1000`;
	}
	if (!Number.isSafeInteger(iat) || iat < 0) {
		// JSON would write NaN or Infinity as null: a proof the server refuses, for no clear reason
		return `iat must be whole seconds since the epoch, got ${iat}`;
	}
	return undefined;
};

/**
 * the `htu` a DPoP proof for this request URL carries, exactly as `createDpopProof` and
 * `createDpopFetch` sign it: the origin (scheme and host lower-cased, no default port) and the
 * path, resolved and percent-encoded; no query or fragment. throws a `TypeError` for a URL
 * `createDpopProof` refuses as `htu`: not an absolute http(s) URL, or one with credentials.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 */
export const toHtu = (url: string): string => {
	const problem = checkHtu(url);
	if (problem !== undefined) {
		throw new TypeError(`toHtu's url ${problem}`);
	}
	return htuOf(new URL(url));
};

/**
 * creates a DPoP proof JWT: header `typ: dpop+jwt`, `alg` and the public `jwk`; claims `htm`,
 * `htu` (normalised as a URL: origin and path, no query or fragment), `iat`, a fresh `jti`, and
 * `nonce` and `ath` when given. rejects with a `TypeError` naming the claim when `htm` is not a
 * method, `htu` not an absolute http(s) URL or one with credentials, `nonce` or `ath` not a string, or `iat` not whole seconds since the epoch
 * (milliseconds, such as `Date.now()`, included).
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
export const createDpopProof = (key: DpopKey, options: DpopProofOptions): Promise<string> => {
	if (typeof options !== 'object' || options === null) {
		return Promise.reject(
			new TypeError(
				`a DPoP proof's options must be an object ({ htm, htu, nonce?, ath?, iat? }), got ${options === null ? 'null' : typeof options}`,
			),
		);
	}
	if (!headers.has(key)) {
		// a key with a header made is one that passed this check
		try {
			checkDpopKey("a DPoP proof's key", key);
		} catch (error) {
			return Promise.reject(error);
		}
	}
	const iat = options.iat ?? Math.floor(Date.now() / 1000);
	// a proof the server refuses is a request that fails for no clear reason: say which claim
	const problem = checkClaims(options, iat);
	if (problem !== undefined) {
		return Promise.reject(new TypeError(`a DPoP proof's ${problem}`));
	}
	// the URL as servers compare it, and as createDpopFetch signs it (htuOf)
	return signDpopProof(key, { ...options, htu: htuOf(new URL(options.htu)) }, iat);
};

/**
 * signs a proof whose key and claims are known good, without checking them again: what
 * `createDpopFetch` sends on every request, with a key it checked when it was made and claims it
 * builds itself (an htu from a parsed URL, a method, whole seconds, string nonces).
 */
export const signDpopProof = (key: DpopKey, options: DpopProofOptions, iat: number): Promise<string> => {
	let header = headers.get(key);
	if (header === undefined) {
		// public members only, whatever a key built by hand carries: RFC 9449 §4.2 forbids a private
		// key in the header, and every server the proof goes to would read it
		header = encodeJwtSegment({
			typ: 'dpop+jwt',
			alg: key.alg,
			jwk: publicJwkOf(key.publicJwk as unknown as Record<string, unknown>),
		});
		headers.set(key, header);
	}
	return signJwt(
		header,
		{
			htm: options.htm,
			// made by htuOf from a parsed URL: origin and path only
			htu: options.htu,
			iat,
			// the server keeps seen jtis to refuse a replayed proof
			jti: randomId(),
			nonce: options.nonce,
			ath: options.ath,
		},
		key.sign,
	);
};
