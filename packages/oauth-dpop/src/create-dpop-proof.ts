import { encodeJwtSegment, publicJwkOf, randomId, signJwt } from '@atcute/oauth-keys';

import type { DpopKey } from './dpop-key.ts';

/** the claims of one DPoP proof. */
export interface DpopProofOptions {
	/** the HTTP method of the request. */
	htm: string;
	/** the request URL; its query and fragment are dropped. */
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

/** the request URL without query and fragment, as `htu` requires. */
export const toHtu = (url: string): string => {
	const query = url.indexOf('?');
	const fragment = url.indexOf('#');
	const end = query === -1 ? fragment : fragment === -1 ? query : Math.min(query, fragment);
	return end === -1 ? url : url.slice(0, end);
};

/**
 * creates a DPoP proof JWT: header `typ: dpop+jwt`, `alg` and the public `jwk`; claims `htm`,
 * `htu` (no query or fragment), `iat`, a fresh `jti`, and `nonce` and `ath` when given.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
export const createDpopProof = (key: DpopKey, options: DpopProofOptions): Promise<string> => {
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
	const iat = options.iat ?? Math.floor(Date.now() / 1000);
	if (!Number.isSafeInteger(iat) || iat < 0) {
		// JSON would write NaN or Infinity as null: a proof the server refuses, for no clear reason
		return Promise.reject(
			new TypeError(`a DPoP proof's iat must be whole seconds since the epoch, got ${iat}`),
		);
	}

	return signJwt(
		header,
		{
			htm: options.htm,
			htu: toHtu(options.htu),
			iat,
			// the server keeps seen jtis to refuse a replayed proof
			jti: randomId(),
			nonce: options.nonce,
			ath: options.ath,
		},
		key.sign,
	);
};
