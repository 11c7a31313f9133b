/**
 * the scope string to request: `atproto` plus the given scopes, each of which must appear in the
 * client metadata's scope (the server checks each literally against it); default all of them.
 * @see https://atproto.com/specs/oauth#scopes
 */
export const requestedScope = (
	metadataScope: string,
	scope: string | readonly string[] | undefined,
): string => {
	if (scope === undefined) return metadataScope;
	const allowed = new Set(metadataScope.split(' '));
	const tokens = typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [...scope];
	const out = new Set(['atproto']);
	for (const token of tokens) {
		// the server checks each requested scope literally against the metadata's
		if (!allowed.has(token)) {
			throw new TypeError(`scope ${JSON.stringify(token)} is not in the client metadata's scope`);
		}
		out.add(token);
	}
	return [...out].join(' ');
};
