import { base64urlEncode } from './internal/base64url.ts';

const encoder = new TextEncoder();

/**
 * base64url(SHA-256(text)): the DPoP `ath` and the PKCE S256 challenge.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export const sha256Base64url = async (text: string): Promise<string> => {
	const digest = await globalThis.crypto.subtle.digest('SHA-256', encoder.encode(text));
	return base64urlEncode(new Uint8Array(digest));
};
