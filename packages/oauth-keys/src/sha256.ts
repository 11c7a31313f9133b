import { base64urlEncode } from './internal/base64url.ts';

const encoder = new TextEncoder();

/**
 * base64url(SHA-256(text)) of a text's UTF-8 bytes, as the PKCE S256 challenge and the DPoP `ath`
 * need it. `sha256Base64url` is WebCrypto's; a runtime's own may answer synchronously (the Node
 * facade's costs about a fifteenth of WebCrypto's digest on Node 20, which goes through a job).
 */
export type Sha256Function = (text: string) => string | Promise<string>;

/**
 * base64url(SHA-256(text)): the DPoP `ath` and the PKCE S256 challenge, on WebCrypto.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export const sha256Base64url = async (text: string): Promise<string> => {
	const digest = await globalThis.crypto.subtle.digest('SHA-256', encoder.encode(text));
	return base64urlEncode(new Uint8Array(digest));
};
