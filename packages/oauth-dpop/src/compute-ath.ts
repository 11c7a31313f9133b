import { sha256Base64url } from '@atcute/oauth-keys';

/**
 * the `ath` claim for a resource request: base64url SHA-256 of the access token. rejects with a
 * `TypeError` when `accessToken` is not a string: `undefined` would otherwise hash as the empty
 * string, an `ath` every resource server refuses, for no clear reason.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
export const computeAth = (accessToken: string): Promise<string> => {
	// runs for each new token: a typeof, no more (the value is never shown: it is a secret)
	if (typeof accessToken !== 'string') {
		return Promise.reject(
			new TypeError(
				`computeAth(accessToken) expects the access token as a string, got ${accessToken === null ? 'null' : typeof accessToken}`,
			),
		);
	}
	return sha256Base64url(accessToken);
};
