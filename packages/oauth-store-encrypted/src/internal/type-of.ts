/**
 * the type of `value` for a message ("a number", "an object", "null"), never the value itself:
 * what was passed in the wrong place may be a secret, a session row or a private key.
 */
export const typeOf = (value: unknown): string => {
	if (value === null || value === undefined) return String(value);
	const type = typeof value;
	return type === 'object' ? 'an object' : `a ${type}`;
};
