/** one challenge of a `WWW-Authenticate` header. */
export interface AuthChallenge {
	/** the auth scheme, lowercased (schemes are case-insensitive). */
	scheme: string;
	/** the auth-params, names lowercased. */
	params: Record<string, string>;
	/** the token68, for schemes that use one. */
	token68?: string;
}

// RFC 9110 §5.6.2 tchar, and §11.2 token68
const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y;
const SPACES = /[ \t]*/y;

/**
 * parses a `WWW-Authenticate` header into its challenges (RFC 9110 §11.6.1), so a DPoP error is
 * read from the right scheme's `error` param rather than found by substring. malformed input
 * yields the challenges parsed before the fault.
 */
export const parseWwwAuthenticate = (header: string): AuthChallenge[] => {
	const challenges: AuthChallenge[] = [];
	let pos = 0;

	const match = (re: RegExp): string | undefined => {
		re.lastIndex = pos;
		const m = re.exec(header);
		if (m === null) return undefined;
		pos = re.lastIndex;
		return m[0];
	};
	const skipSpaces = () => void match(SPACES);
	const quoted = (): string | undefined => {
		// header[pos] is the opening quote
		let value = '';
		for (let i = pos + 1; i < header.length; i++) {
			const char = header[i];
			if (char === '\\') {
				value += header[++i] ?? '';
			} else if (char === '"') {
				pos = i + 1;
				return value;
			} else {
				value += char;
			}
		}
		return undefined;
	};

	while (pos < header.length) {
		// skip empty list elements
		while (header[pos] === ',' || header[pos] === ' ' || header[pos] === '\t') pos++;
		if (pos >= header.length) break;

		const scheme = match(TOKEN);
		if (scheme === undefined) break;
		const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
		challenges.push(challenge);
		skipSpaces();

		// token68: a run followed by the end or a comma
		const start = pos;
		const t68 = match(TOKEN68);
		if (t68 !== undefined) {
			skipSpaces();
			if (pos >= header.length || header[pos] === ',') {
				challenge.token68 = t68;
				continue;
			}
		}
		pos = start;

		// auth-params, until the next challenge starts
		while (pos < header.length) {
			// empty list elements (RFC 9110 §5.6.1): a comma right after the scheme, or two in a row
			while (header[pos] === ',' || header[pos] === ' ' || header[pos] === '\t') pos++;
			const before = pos;
			const name = match(TOKEN);
			if (name === undefined) break;
			skipSpaces();
			if (header[pos] !== '=') {
				// a token without "=" is the next challenge's scheme
				pos = before;
				break;
			}
			pos++;
			skipSpaces();
			const value = header[pos] === '"' ? quoted() : match(TOKEN);
			if (value === undefined) return challenges;
			challenge.params[name.toLowerCase()] = value;
			skipSpaces();
			if (header[pos] !== ',') break;
			pos++;
			skipSpaces();
		}
	}
	return challenges;
};
