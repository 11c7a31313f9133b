// escapes undone after percent-encoding, as the reference formatter does, so that DIDs, NSIDs and
// MIME types stay readable: `:`, `/`, `,`, `@`, and `+` in the positional part. `#`, `?` and `&`
// stay escaped.
//
// two deliberate departures from the reference, both so that the output parses back to the same
// permission: `%25` stays escaped (un-escaping it turns `did:web:localhost%3A2584` into a different
// DID on the way back), and so does `%2B` in the query, where a bare `+` decodes to a space.
const POSITIONAL_UNESCAPE_RE = /%(?:3A|2F|2B|2C|40)/g;
const QUERY_UNESCAPE_RE = /%(?:3A|2F|2C|40)/g;

// characters encodeURIComponent leaves alone but application/x-www-form-urlencoded escapes
const FORM_ESCAPE_RE = /[!'()~]/g;

const decodeEscape = (sequence: string): string =>
	String.fromCharCode(Number.parseInt(sequence.slice(1), 16));

const formEscape = (char: string): string => `%${char.charCodeAt(0).toString(16).toUpperCase()}`;

/** percent-encodes the positional part of a scope token. */
const encodePositional = (value: string): string => {
	return encodeURIComponent(value).replace(POSITIONAL_UNESCAPE_RE, decodeEscape);
};

/**
 * percent-encodes a query value the way URLSearchParams serializes it (`application/x-www-form-urlencoded`;
 * the values we format never hold a space).
 */
const encodeQueryValue = (value: string): string => {
	return encodeURIComponent(value)
		.replace(FORM_ESCAPE_RE, formEscape)
		.replace(QUERY_UNESCAPE_RE, decodeEscape);
};

/**
 * writes a scope token: `resource`, then `:positional` when given, then `?key=value&…` for the
 * params in order.
 */
export const writeScopeToken = (
	resource: string,
	positional: string | undefined,
	params: readonly (readonly [key: string, value: string])[],
): string => {
	let token = resource;
	if (positional !== undefined) {
		token += `:${encodePositional(positional)}`;
	}
	for (let i = 0; i < params.length; i++) {
		const [key, value] = params[i]!;
		token += `${i === 0 ? '?' : '&'}${key}=${encodeQueryValue(value)}`;
	}
	return token;
};
