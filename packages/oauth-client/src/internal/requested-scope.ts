import { formatScopeToken, parseScopeToken } from '@atcute/oauth-scope';

/** a token's canonical spelling, or undefined for one that is not a permission. */
const canonicalOf = (token: unknown): string | undefined => {
	const permission = typeof token === 'string' ? parseScopeToken(token) : undefined;
	return permission === undefined ? undefined : formatScopeToken(permission);
};

/**
 * the scope string to request: `atproto` plus the given scopes, each of which must appear in the
 * client metadata's scope; default all of them. the server checks each token literally against
 * the metadata's, so a token the metadata spells otherwise (`blob?accept=image/*` for
 * `blob:image/*`, actions in another order) is sent in the metadata's spelling.
 * @see https://atproto.com/specs/oauth#scopes
 */
export const requestedScope = (
	metadataScope: string,
	scope: string | readonly string[] | undefined,
): string => {
	if (scope === undefined) return metadataScope;
	const allowed = new Set(metadataScope.split(' '));
	// the metadata's spelling of each permission, by canonical spelling; built only when needed
	let spellings: Map<string, string> | undefined;
	const tokens = typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [...scope];
	const out = new Set(['atproto']);
	for (const token of tokens) {
		let sent: string | undefined = token;
		if (!allowed.has(token)) {
			if (spellings === undefined) {
				spellings = new Map();
				for (const declared of allowed) {
					const canonical = canonicalOf(declared);
					if (canonical !== undefined && !spellings.has(canonical)) spellings.set(canonical, declared);
				}
			}
			// the same permission only: a narrower or wider one is another token, which the server refuses
			const canonical = canonicalOf(token);
			sent = canonical === undefined ? undefined : spellings.get(canonical);
		}
		if (sent === undefined) {
			throw new TypeError(`scope ${JSON.stringify(token)} is not in the client metadata's scope`);
		}
		out.add(sent);
	}
	return [...out].join(' ');
};
