/**
 * the request parameters whose values are secrets: an authorization code and its PKCE verifier,
 * a refresh token, the token being revoked, the client assertion, and the sign-in's state.
 */
const SECRET_PARAMS = ['code', 'code_verifier', 'refresh_token', 'token', 'client_assertion', 'state'];

/** the secrets in a request's form body, to keep out of the errors its answer makes. */
export const secretsIn = (body: URLSearchParams): string[] => {
	const secrets: string[] = [];
	for (const name of SECRET_PARAMS) {
		const value = body.get(name);
		if (value !== null) secrets.push(value);
	}
	return secrets;
};

/**
 * `text` (a server's words, put into an error an app will log) with each of `secrets` in it
 * replaced by `[redacted]`: a server that quotes what it was sent ("unknown refresh token …")
 * must not put a live token into the app's logs. values shorter than 8 characters are no secret
 * of ours, and replacing them would garble the text.
 */
export const redactSent = (text: string, secrets: readonly unknown[]): string => {
	for (const secret of secrets) {
		if (typeof secret === 'string' && secret.length >= 8 && text.includes(secret)) {
			text = text.replaceAll(secret, '[redacted]');
		}
	}
	return text;
};
