import { createHash } from 'node:crypto';

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
	// the server keeps names starting with pg_ for its own schemas: refused here, not at first use
	if (option === 'schema' && value.toLowerCase().startsWith('pg_')) {
		throw new TypeError(
			`schema must not start with "pg_", which PostgreSQL keeps for its own, got ${JSON.stringify(value)}`,
		);
	}
	return `"${value}"`;
};

/**
 * the name of an object made for the checked identifier `table` (an index): `table + suffix`
 * where it fits in 63 bytes, as the package has always named it. past that the server would cut
 * it, and for a 63-character table the cut name is the table's own: then the table part is
 * shortened and 8 hex digits of its SHA-256 keep tables that share a beginning apart.
 */
export const derivedName = (table: string, suffix: string): string => {
	const plain = `${table}${suffix}`;
	if (plain.length <= MAX_IDENTIFIER_LENGTH) return plain;
	const hash = createHash('sha256').update(table).digest('hex').slice(0, 8);
	return `${table.slice(0, MAX_IDENTIFIER_LENGTH - suffix.length - hash.length - 1)}_${hash}${suffix}`;
};
