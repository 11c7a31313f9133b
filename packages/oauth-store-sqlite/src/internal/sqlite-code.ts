/**
 * SQLite's primary result codes (the low byte of node:sqlite's `errcode`),
 * every one an error can carry (100 and 101, SQLITE_ROW and SQLITE_DONE, are never errors).
 */
const PRIMARY_CODES: Record<number, string> = {
	1: 'SQLITE_ERROR',
	2: 'SQLITE_INTERNAL',
	3: 'SQLITE_PERM',
	4: 'SQLITE_ABORT',
	5: 'SQLITE_BUSY',
	6: 'SQLITE_LOCKED',
	7: 'SQLITE_NOMEM',
	8: 'SQLITE_READONLY',
	9: 'SQLITE_INTERRUPT',
	10: 'SQLITE_IOERR',
	11: 'SQLITE_CORRUPT',
	12: 'SQLITE_NOTFOUND',
	13: 'SQLITE_FULL',
	14: 'SQLITE_CANTOPEN',
	15: 'SQLITE_PROTOCOL',
	16: 'SQLITE_EMPTY',
	17: 'SQLITE_SCHEMA',
	18: 'SQLITE_TOOBIG',
	19: 'SQLITE_CONSTRAINT',
	20: 'SQLITE_MISMATCH',
	21: 'SQLITE_MISUSE',
	22: 'SQLITE_NOLFS',
	23: 'SQLITE_AUTH',
	24: 'SQLITE_FORMAT',
	25: 'SQLITE_RANGE',
	26: 'SQLITE_NOTADB',
	27: 'SQLITE_NOTICE',
	28: 'SQLITE_WARNING',
};

/** the extended codes whose meaning differs from their primary code's here (see `PASSING_CODES`). */
const EXTENDED_CODES: Record<number, string> = {
	[8 | (1 << 8)]: 'SQLITE_READONLY_RECOVERY',
	[8 | (5 << 8)]: 'SQLITE_READONLY_CANTINIT',
};

/**
 * the SQLite result code of a driver error: better-sqlite3 puts the name in `code`
 * (`SQLITE_BUSY_SNAPSHOT`), node:sqlite the number in `errcode`.
 */
export const sqliteCodeOf = (error: unknown): string | undefined => {
	if (typeof error !== 'object' || error === null) return undefined;
	const { code, errcode } = error as { code?: unknown; errcode?: unknown };
	if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
	if (typeof errcode === 'number') {
		return EXTENDED_CODES[errcode] ?? PRIMARY_CODES[errcode & 0xff] ?? `SQLITE_ERROR_${errcode}`;
	}
	return undefined;
};

/**
 * result codes of a failure that may pass (primary codes, and their extended ones): another
 * connection's lock, a full disk, an I/O error, memory, a file that could not be opened (too many
 * open files), a shared-memory race, an interrupt, a WAL being recovered by another connection.
 * anything else (no code: a closed connection, a value that is not JSON, no driver; a read-only,
 * corrupt or foreign file; misuse) stays as it is, and trying again will not fix it.
 */
const PASSING_CODES = [
	'SQLITE_BUSY',
	'SQLITE_LOCKED',
	'SQLITE_FULL',
	'SQLITE_IOERR',
	'SQLITE_NOMEM',
	'SQLITE_CANTOPEN',
	'SQLITE_PROTOCOL',
	'SQLITE_INTERRUPT',
	'SQLITE_READONLY_RECOVERY',
	'SQLITE_READONLY_CANTINIT',
];

/** whether a driver error may pass if tried again later (see `PASSING_CODES`). */
export const isPassing = (error: unknown): boolean => {
	const code = sqliteCodeOf(error);
	// a primary code, or one of its extended codes (SQLITE_IOERR_FSYNC), never a longer name
	return (
		code !== undefined && PASSING_CODES.some((passing) => code === passing || code.startsWith(`${passing}_`))
	);
};

/** whether SQLite gave up waiting for another connection's lock. */
export const isBusy = (error: unknown): boolean => {
	const code = sqliteCodeOf(error);
	return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
};

/** the driver's own message: SQLite's messages name tables and columns, never bound values. */
export const messageOf = (error: unknown): string =>
	error instanceof Error ? error.message : 'unknown SQLite error';

/**
 * whether a statement failed because its table does not exist (any more): dropped while the store
 * or lock ran. SQLite says so only in words, under the generic SQLITE_ERROR.
 */
export const isMissingTable = (error: unknown): boolean =>
	sqliteCodeOf(error) === 'SQLITE_ERROR' && /^no such table\b/.test(messageOf(error));
