import { StoreSchemaError } from '../errors.ts';
import type { SqliteDatabase } from '../sqlite-database.ts';

/**
 * where the package records the tables it made, with their kind and format version. a table of
 * its own rather than `PRAGMA user_version`, which belongs to the app when the database is shared.
 */
const META_TABLE = 'atcute_oauth_schema';

/** what a table holds. */
export type TableKind = 'store' | 'lock';

/** the table to make (or check) and the statements that make it. */
export interface TableSchema {
	/** the table name, unquoted. */
	name: string;
	kind: TableKind;
	/** the format this code reads and writes. */
	version: number;
	/** creates the table and its indexes. */
	create: readonly string[];
}

/** a table's meta row. `compatible_from` is there only once a newer release added that column. */
interface MetaRow {
	kind: string;
	version: number | bigint;
	compatible_from?: number | bigint | null;
}

const latestRow = (database: SqliteDatabase, name: string) =>
	// NOCASE: SQLite's names ignore ASCII case, so a row written as "Sessions" records the table
	// "sessions" too. the newest row first: before this compared case, a file could get a row
	// for "sessions" after "Sessions" was dropped, and the newer row is the table's. every column:
	// a newer release may have added `compatible_from`
	database
		.prepare(`SELECT * FROM ${META_TABLE} WHERE name = ? COLLATE NOCASE ORDER BY rowid DESC LIMIT 1`)
		.get(name) as MetaRow | undefined | null;

/**
 * whether this code reads and writes a table in the format its row records: its own version, or a
 * newer one whose release recorded (`compatible_from`) that this version still works with it (an
 * index added, a column with a default), so that processes of the older release go on through a
 * rolling deploy and after a rollback. a newer format that does not say so is refused.
 */
const worksWith = (row: MetaRow, schema: TableSchema): boolean => {
	const version = Number(row.version);
	if (version === schema.version) return true;
	if (version < schema.version || row.compatible_from == null) return false;
	return Number(row.compatible_from) <= schema.version;
};

/** what holds the name now: tables, indexes and views share one namespace (triggers have their own), so at most one. */
const holderOf = (database: SqliteDatabase, name: string) =>
	database
		.prepare(
			`SELECT type, name FROM sqlite_master WHERE name = ? COLLATE NOCASE AND type IN ('table', 'index', 'view')`,
		)
		.get(name) as { type: string; name: string } | undefined | null;

/** whether the table is there, ours, of this kind and at this version: read without a transaction. */
const isCurrent = (database: SqliteDatabase, schema: TableSchema): boolean => {
	try {
		const row = latestRow(database, schema.name);
		return (
			row != null &&
			row.kind === schema.kind &&
			worksWith(row, schema) &&
			holderOf(database, schema.name)?.type === 'table'
		);
	} catch {
		// no meta table yet, or the read failed: the locked path below decides, and reports
		return false;
	}
};

/**
 * creates the table on first use and records its version; refuses a table made by a newer
 * version (unless its row says this version works with it: see `worksWith`) or by someone else. a
 * table the meta table records but the file no longer has (dropped by hand, or to reset it) is made
 * again. idempotent, and safe when many processes open the file
 * at once. names are compared as SQLite compares them, ignoring ASCII case: `Sessions` and
 * `sessions` are one table.
 * @throws {StoreSchemaError} when the table cannot be used
 */
export const ensureSchema = (database: SqliteDatabase, schema: TableSchema): void => {
	// the usual case, a table already made at this version, needs no write lock: a process starting
	// beside one that writes then waits for nothing, and an app's open transaction on a shared
	// connection is no obstacle. anything else is decided again under the lock below
	if (isCurrent(database, schema)) return;
	// IMMEDIATE takes the write lock first, so two processes opening a new file cannot both
	// decide to create the table. outside the try: when it fails (the app's own transaction is
	// open on a shared connection) there is nothing of ours to roll back, and the app's must stay
	database.exec('BEGIN IMMEDIATE');
	try {
		database.exec(
			`CREATE TABLE IF NOT EXISTS ${META_TABLE} (name TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, version INTEGER NOT NULL)`,
		);
		let row = latestRow(database, schema.name);
		const holder = () => holderOf(database, schema.name);

		// a recorded table that is gone: its row describes nothing now and the name is free again, so
		// it is made afresh below (else every statement would fail with "no such table" for good)
		if (row != null && holder()?.type !== 'table') {
			database.prepare(`DELETE FROM ${META_TABLE} WHERE name = ? COLLATE NOCASE`).run(schema.name);
			row = undefined;
		}

		// no row: undefined from better-sqlite3 and node:sqlite, null from bun:sqlite
		if (row == null) {
			// an index here is most likely a store's "<table>_expires_at" from a file made by an
			// earlier release (new ones are "<table>:expires_at", which no table name can be)
			const existing = holder();
			if (existing != null) {
				throw new StoreSchemaError(
					'not_ours',
					schema.name,
					existing.type === 'table'
						? `table "${existing.name}" exists but was not created by @atcute/oauth-store-sqlite; choose another table`
						: `table "${schema.name}" cannot be created: ${existing.type} "${existing.name}" has that name; choose another table`,
				);
			}
			for (const statement of schema.create) database.exec(statement);
			database
				.prepare(`INSERT INTO ${META_TABLE} (name, kind, version) VALUES (?, ?, ?)`)
				.run(schema.name, schema.kind, schema.version);
		} else if (row.kind !== schema.kind) {
			throw new StoreSchemaError(
				'not_ours',
				schema.name,
				`table "${schema.name}" is a ${row.kind} table, not a ${schema.kind} table; choose another table`,
			);
		} else if (Number(row.version) > schema.version && !worksWith(row, schema)) {
			throw new StoreSchemaError(
				'version_too_new',
				schema.name,
				`table "${schema.name}" has format version ${row.version}, newer than the ${schema.version} this version of @atcute/oauth-store-sqlite reads; upgrade the package`,
			);
		}
		// an older version would be migrated here; version 1 is the first
		database.exec('COMMIT');
	} catch (err) {
		try {
			database.exec('ROLLBACK');
		} catch {
			// the transaction is already gone; the first error is the one to report
		}
		throw err;
	}
};
