import { sha256Base64url } from '@atcute/oauth-keys';

/**
 * the `ath` claim for a resource request: base64url SHA-256 of the access token.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
export const computeAth = (accessToken: string): Promise<string> => {
	return sha256Base64url(accessToken);
};
