/**
 * a prepared statement: the part of better-sqlite3's `Statement` and node:sqlite's
 * `StatementSync` this package uses. it binds strings, numbers and `null`. (parameters are
 * `unknown` so that better-sqlite3's generic `prepare` fits as it is.)
 */
export interface SqliteStatement {
	/** runs it; `changes` is how many rows it inserted, updated or deleted. */
	run(...params: unknown[]): { changes: number | bigint };
	/** runs it and returns the first row as an object, or `undefined` (`null` in bun:sqlite) when there is none. */
	get(...params: unknown[]): unknown;
}

/**
 * a SQLite connection, synchronous: better-sqlite3's `Database`, node:sqlite's `DatabaseSync` and
 * bun:sqlite's `Database` all fit as they are.
 */
export interface SqliteDatabase {
	/** compiles one statement. */
	prepare(sql: string): SqliteStatement;
	/** runs one or more statements, discarding their rows. */
	exec(sql: string): unknown;
	/** closes the connection. */
	close(): unknown;
}
