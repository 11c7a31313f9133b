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
		if (typeof secret === 'string' && secret.length >= 8 && secret.length <= text.length) {
			// the built-in search is the faster for the sizes of a usual error; past this product of
			// the lengths, where its worst case could cost a millisecond or more, the linear one
			text =
				text.length * secret.length > BUILT_IN_SEARCH_LIMIT
					? replaceEvery(text, secret, '[redacted]')
					: text.includes(secret)
						? text.replaceAll(secret, '[redacted]')
						: text;
		}
	}
	return text;
};

/** text length × pattern length up to which `replaceAll` is used: its worst case there is a fraction of a millisecond. */
const BUILT_IN_SEARCH_LIMIT = 1 << 20;

/**
 * `text` with each occurrence of `pattern`, left to right and none overlapping (as `replaceAll`
 * finds them), replaced by `by`, in time linear in both lengths (Knuth-Morris-Pratt). the server
 * chooses the text and, through the tokens it issued, the patterns: `includes` and `replaceAll`
 * take time near the product of the two for some of them (a 64 KiB answer quoting a token built
 * for it blocked the event loop for 150-310 ms).
 */
export const replaceEvery = (text: string, pattern: string, by: string): string => {
	// border[i]: the length of the longest proper prefix of pattern[0..i] that is also its suffix
	const border = new Int32Array(pattern.length);
	for (let i = 1, k = 0; i < pattern.length; i++) {
		while (k > 0 && pattern.charCodeAt(i) !== pattern.charCodeAt(k)) k = border[k - 1]!;
		if (pattern.charCodeAt(i) === pattern.charCodeAt(k)) k++;
		border[i] = k;
	}
	let out = '';
	let copied = 0;
	for (let i = 0, k = 0; i < text.length; i++) {
		while (k > 0 && text.charCodeAt(i) !== pattern.charCodeAt(k)) k = border[k - 1]!;
		if (text.charCodeAt(i) === pattern.charCodeAt(k)) k++;
		if (k === pattern.length) {
			out += text.slice(copied, i + 1 - pattern.length) + by;
			copied = i + 1;
			// the next match starts after this one, as replaceAll's does
			k = 0;
		}
	}
	return copied === 0 ? text : out + text.slice(copied);
};
