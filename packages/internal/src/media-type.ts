// shared by @atcute/oauth-discovery and @atcute/oauth-dpop (each build inlines it): a server's
// Content-Type is read the same way wherever it is checked.

// RFC 9110 §5.6.2 token
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** the elements of a header's comma-separated list, commas inside quoted strings kept. */
const listOf = (header: string): string[] => {
	const values: string[] = [];
	let start = 0;
	let quoted = false;
	for (let i = 0; i < header.length; i++) {
		const char = header[i];
		if (quoted && char === '\\') i++;
		else if (char === '"') quoted = !quoted;
		else if (char === ',' && !quoted) {
			values.push(header.slice(start, i));
			start = i + 1;
		}
	}
	values.push(header.slice(start));
	return values;
};

/**
 * the media type (`type/subtype`, lowercased, without parameters) of a `Content-Type` header, as
 * the Fetch standard extracts it: the last valid one when the header came more than once (a front
 * server that adds its own beside the upstream's; `Headers` joins the lines with ", "), so a
 * document a browser reads as JSON is read as JSON here too. undefined when there is none.
 * @see https://fetch.spec.whatwg.org/#concept-header-extract-mime-type
 */
export const mediaTypeOf = (header: string | null): string | undefined => {
	if (header === null) return undefined;
	let found: string | undefined;
	for (const value of listOf(header)) {
		const semicolon = value.indexOf(';');
		const essence = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
		const slash = essence.indexOf('/');
		if (slash === -1 || essence === '*/*') continue;
		if (!TOKEN.test(essence.slice(0, slash)) || !TOKEN.test(essence.slice(slash + 1))) continue;
		found = essence;
	}
	return found;
};
