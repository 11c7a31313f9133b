import { createHash } from 'node:crypto';

/** base64url(SHA-256(text)): a DPoP `ath` and a PKCE S256 challenge. */
export const sha256Base64url = (text: string): string => {
	return createHash('sha256').update(text).digest('base64url');
};
