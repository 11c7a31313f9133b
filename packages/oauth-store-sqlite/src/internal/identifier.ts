/** a plain SQL identifier: it is spliced into statements, so nothing that needs escaping. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * checks a table name given in options and returns it double-quoted for SQL.
 * @throws {TypeError} naming the option when it is not a plain identifier
 */
export const quoteTable = (option: string, table: unknown): string => {
	if (typeof table !== 'string' || !IDENTIFIER.test(table) || /^sqlite_/i.test(table)) {
		throw new TypeError(
			`${option} must be a plain SQL identifier (1 to 63 letters, digits or _, not starting with a digit; not sqlite_*), got ${JSON.stringify(table)}`,
		);
	}
	return `"${table}"`;
};
