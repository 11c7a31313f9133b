/** a scope token taken apart: `resource[:positional][?params]`, with values percent-decoded. */
export interface ScopeSyntax {
	readonly resource: string;
	/** the value after `:` and before `?`, decoded; `''` for `resource:`. */
	readonly positional: string | undefined;
	/** the query after `?`, decoded as `application/x-www-form-urlencoded`. */
	readonly params: URLSearchParams | undefined;
}

// the atproto grammar: a scope token is printable ASCII, no whitespace. (the reference only refuses
// non-ASCII where a value's own check does, so it takes `blob:image/pngé`; we do not)
const TOKEN_RE = /^[\x21-\x7e]+$/;

/**
 * takes a scope token apart, or returns undefined when it is not printable ASCII or its positional
 * value is not valid percent-encoded UTF-8.
 * @see https://atproto.com/specs/permission#scope-string-syntax
 */
export const parseScopeSyntax = (token: string): ScopeSyntax | undefined => {
	if (!TOKEN_RE.test(token)) {
		return undefined;
	}

	const query = token.indexOf('?');
	const colon = token.indexOf(':');
	const hasPositional = colon !== -1 && (query === -1 || colon < query);
	const resourceEnd = hasPositional ? colon : query === -1 ? token.length : query;

	let positional: string | undefined;
	if (hasPositional) {
		try {
			positional = decodeURIComponent(token.slice(colon + 1, query === -1 ? undefined : query));
		} catch {
			// a malformed escape (`%zz`, `%E0`): the reference throws a URIError here, we refuse the token
			return undefined;
		}
	}

	// `resource?` with nothing after the `?` has no params, like the reference
	const params =
		query !== -1 && query < token.length - 1 ? new URLSearchParams(token.slice(query + 1)) : undefined;

	return { resource: token.slice(0, resourceEnd), positional, params };
};

/**
 * the values of a permission's parameters, with the positional one folded in under its name.
 * undefined when a parameter is unknown, or the positional parameter is also given by name.
 */
export const readParams = (
	syntax: ScopeSyntax,
	positionalName: string,
	names: readonly string[],
): Map<string, string[]> | undefined => {
	const values = new Map<string, string[]>();
	if (syntax.params !== undefined) {
		for (const [key, value] of syntax.params) {
			if (!names.includes(key)) {
				return undefined;
			}
			const list = values.get(key);
			if (list === undefined) {
				values.set(key, [value]);
			} else {
				list.push(value);
			}
		}
	}
	if (syntax.positional !== undefined) {
		// `repo:a?collection=b` names the collection twice: refused, even when both agree
		if (values.has(positionalName)) {
			return undefined;
		}
		values.set(positionalName, [syntax.positional]);
	}
	return values;
};
