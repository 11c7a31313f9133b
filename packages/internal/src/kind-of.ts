/**
 * what a value is, for an error message about a wrong argument: its class (`AbortController`),
 * `an array`, `null`, else its `typeof`. never the value itself, which may be a key or a token.
 */
export const kindOf = (value: unknown): string => {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'an array';
	const name =
		typeof value === 'object' ? (value as { constructor?: { name?: unknown } }).constructor?.name : undefined;
	return typeof name === 'string' && name !== '' && name !== 'Object' ? name : typeof value;
};
