/** primary result codes (the low byte of node:sqlite's `errcode`) that callers may branch on. */
const PRIMARY_CODES: Record<number, string> = {
	1: 'SQLITE_ERROR',
	5: 'SQLITE_BUSY',
	6: 'SQLITE_LOCKED',
	8: 'SQLITE_READONLY',
	10: 'SQLITE_IOERR',
	11: 'SQLITE_CORRUPT',
	13: 'SQLITE_FULL',
	14: 'SQLITE_CANTOPEN',
	21: 'SQLITE_MISUSE',
	26: 'SQLITE_NOTADB',
};

/**
 * the SQLite result code of a driver error: better-sqlite3 puts the name in `code`
 * (`SQLITE_BUSY_SNAPSHOT`), node:sqlite the number in `errcode`.
 */
export const sqliteCodeOf = (error: unknown): string | undefined => {
	if (typeof error !== 'object' || error === null) return undefined;
	const { code, errcode } = error as { code?: unknown; errcode?: unknown };
	if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
	if (typeof errcode === 'number') return PRIMARY_CODES[errcode & 0xff] ?? `SQLITE_ERROR_${errcode}`;
	return undefined;
};

/** whether SQLite gave up waiting for another connection's lock. */
export const isBusy = (error: unknown): boolean => {
	const code = sqliteCodeOf(error);
	return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
};

/** the driver's own message: SQLite's messages name tables and columns, never bound values. */
export const messageOf = (error: unknown): string =>
	error instanceof Error ? error.message : 'unknown SQLite error';
