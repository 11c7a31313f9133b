import { createRequire } from 'node:module';

import type BetterSqlite3 from 'better-sqlite3';

import type { SqliteDatabase } from '../sqlite-database.ts';
import { type SqliteDriverName, selectDriver } from './load-driver.ts';
import { RealDatabaseSync } from './test-node-sqlite.ts';

/** a row, as a plain object (node:sqlite's have a null prototype). */
export type RawRow = Record<string, unknown>;

/** a prepared statement of a raw connection. */
export interface RawStatement {
	run(...params: unknown[]): { changes: number | bigint };
	get(...params: unknown[]): RawRow | undefined;
	all(...params: unknown[]): RawRow[];
}

/**
 * a connection a test opens on a file of its own (to look at rows, hold a lock, tamper), the same
 * on better-sqlite3 and node:sqlite.
 */
export interface RawDatabase {
	/** the driver that opened it. */
	readonly driver: SqliteDriverName;
	/** the driver's own connection, to give a store or lock as its `database`. */
	readonly connection: SqliteDatabase;
	prepare(sql: string): RawStatement;
	exec(sql: string): void;
	/** runs `PRAGMA <pragma>` and returns the first column of its first row, if any. */
	pragma(pragma: string): unknown;
	/** whether a transaction is open on it. */
	readonly inTransaction: boolean;
	close(): void;
}

/**
 * the driver raw connections use: the one the store picks on this Node (better-sqlite3 where its
 * addon loads, node:sqlite where it does not, as on Node 22 and 24 here).
 */
export const RAW_DRIVER: SqliteDriverName = selectDriver().name;

/** better-sqlite3's busy timeout when opened: node:sqlite's raw connections get it too. */
const BUSY_TIMEOUT_MS = 5_000;

const plain = (row: unknown): RawRow | undefined => (row == null ? undefined : { ...(row as RawRow) });

const fromBetterSqlite3 = (path: string, readonly: boolean): RawDatabase => {
	// required, not imported: on a Node its addon was not built for, only opening it fails
	const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
	const database = new Database(path, { readonly });
	return {
		driver: 'better-sqlite3',
		connection: database,
		prepare: (sql) => {
			const statement = database.prepare<unknown[], RawRow>(sql);
			return {
				run: (...params) => statement.run(...params),
				get: (...params) => statement.get(...params),
				all: (...params) => statement.all(...params),
			};
		},
		exec: (sql) => {
			database.exec(sql);
		},
		pragma: (pragma) => database.pragma(pragma, { simple: true }),
		get inTransaction() {
			return database.inTransaction;
		},
		close: () => {
			database.close();
		},
	};
};

/** the part of node:sqlite's `DatabaseSync` (absent from this package's Node 20 types) used here. */
interface NodeSqliteConnection extends SqliteDatabase {
	prepare(sql: string): RawStatement;
	readonly isTransaction: boolean;
}

const fromNodeSqlite = (path: string, readonly: boolean): RawDatabase => {
	if (RealDatabaseSync === undefined) throw new Error('this Node has no node:sqlite');
	const database = new RealDatabaseSync(path, { readOnly: readonly }) as NodeSqliteConnection;
	database.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
	const firstColumn = (row: RawRow | undefined): unknown =>
		row === undefined ? undefined : Object.values(row)[0];
	return {
		driver: 'node:sqlite',
		connection: database,
		prepare: (sql) => {
			const statement = database.prepare(sql);
			return {
				run: (...params) => statement.run(...params),
				get: (...params) => plain(statement.get(...params)),
				all: (...params) => statement.all(...params).map((row) => plain(row)!),
			};
		},
		exec: (sql) => {
			database.exec(sql);
		},
		pragma: (pragma) => firstColumn(plain(database.prepare(`PRAGMA ${pragma}`).get())),
		get inTransaction() {
			return database.isTransaction;
		},
		close: () => {
			database.close();
		},
	};
};

/** opens `path` with `RAW_DRIVER`; `readonly` opens it read-only. */
export const openRawDatabase = (
	path: string,
	{ readonly = false }: { readonly?: boolean } = {},
): RawDatabase =>
	RAW_DRIVER === 'better-sqlite3' ? fromBetterSqlite3(path, readonly) : fromNodeSqlite(path, readonly);
