/** what a schema or table name may be: a plain SQL identifier, so it is never mistaken for SQL. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** PostgreSQL keeps at most 63 bytes of a name (NAMEDATALEN - 1) and cuts the rest silently. */
const MAX_IDENTIFIER_LENGTH = 63;

/**
 * checks that `value` (the option `option`) is a plain identifier and returns it double-quoted,
 * so its case is kept and a reserved word works too.
 * @throws {TypeError} naming the option, when it is not
 */
export const quoteIdentifier = (option: string, value: unknown): string => {
	if (typeof value !== 'string' || !IDENTIFIER.test(value) || value.length > MAX_IDENTIFIER_LENGTH) {
		throw new TypeError(
			`${option} must be 1 to ${MAX_IDENTIFIER_LENGTH} letters, digits or "_", not starting with a digit, got ${JSON.stringify(value)}`,
		);
	}
	return `"${value}"`;
};
