import { base64urlEncode } from './internal/base64url.ts';

import type { SignFunction } from './signing-key.ts';

const encoder = new TextEncoder();

/** base64url(JSON) of a JWT header or claims set. headers are constant per key: encode them once. */
export const encodeJwtSegment = (value: object): string => {
	return base64urlEncode(JSON.stringify(value));
};

/**
 * builds a compact JWS from an already encoded header and a claims set.
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-7.1
 */
export const signJwt = async (encodedHeader: string, claims: object, sign: SignFunction): Promise<string> => {
	const signingInput = `${encodedHeader}.${encodeJwtSegment(claims)}`;
	const signature = await sign(encoder.encode(signingInput));
	return `${signingInput}.${base64urlEncode(signature)}`;
};
