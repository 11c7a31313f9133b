import { createRequire } from 'node:module';

import type Database from 'better-sqlite3';

import type { SqliteDatabase, SqliteStatement } from '../sqlite-database.ts';

/** a class that opens a file as node:sqlite's `DatabaseSync` does. */
export type DatabaseSyncClass = new (path: string, options?: { readOnly?: boolean }) => SqliteDatabase;

/**
 * node:sqlite's own `DatabaseSync` where this Node has it (22.5+), else undefined. loaded through
 * `getBuiltinModule`: a static import of `node:sqlite` would fail to resolve on Node 20.
 */
export const RealDatabaseSync: DatabaseSyncClass | undefined = (
	process.getBuiltinModule?.('node:sqlite') as { DatabaseSync?: DatabaseSyncClass } | undefined
)?.DatabaseSync;

/** better-sqlite3, loaded only when a fake is made: its addon may be built for another Node. */
const betterSqlite3 = (): typeof Database =>
	createRequire(import.meta.url)('better-sqlite3') as typeof Database;

/** node:sqlite's numeric result codes for the better-sqlite3 codes the fake translates. */
const ERRCODES: Record<string, number> = {
	SQLITE_ERROR: 1,
	SQLITE_BUSY: 5,
	SQLITE_LOCKED: 6,
	SQLITE_CANTOPEN: 14,
	SQLITE_MISUSE: 21,
	SQLITE_NOTADB: 26,
};

/** rethrows a better-sqlite3 error in node:sqlite's shape: `code: 'ERR_SQLITE_ERROR'`, `errcode`, `errstr`. */
const translate = (err: unknown): never => {
	const code = (err as { code?: string }).code ?? 'SQLITE_ERROR';
	throw Object.assign(new Error((err as Error).message), {
		code: 'ERR_SQLITE_ERROR',
		errcode: ERRCODES[code.replace(/^(SQLITE_[A-Z]+?)(_[A-Z_]+)?$/, '$1')] ?? 1,
		errstr: (err as Error).message,
	});
};

const guard = <T>(fn: () => T): T => {
	try {
		return fn();
	} catch (err) {
		return translate(err);
	}
};

/**
 * a stand-in for node:sqlite's `DatabaseSync`, which this Node (20) does not have: the same
 * surface (prepare/exec/close; statements with run/get; null-prototype rows; no busy timeout
 * by default; errors with a numeric `errcode`) over better-sqlite3.
 */
export class FakeDatabaseSync implements SqliteDatabase {
	readonly #database: Database.Database;

	constructor(path: string) {
		// node:sqlite opens with no busy timeout; better-sqlite3's default is 5 s
		const BetterSqlite3 = betterSqlite3();
		this.#database = guard(() => new BetterSqlite3(path, { timeout: 0 }));
	}

	prepare(sql: string): SqliteStatement {
		const statement = guard(() => this.#database.prepare<unknown[], Record<string, unknown>>(sql));
		return {
			run: (...params) =>
				guard(() => {
					const { changes, lastInsertRowid } = statement.run(...params);
					return { changes, lastInsertRowid };
				}),
			get: (...params) =>
				guard(() => {
					if (!statement.reader) {
						statement.run(...params);
						return undefined;
					}
					const row = statement.get(...params);
					return row === undefined ? undefined : Object.assign(Object.create(null), row);
				}),
		};
	}

	exec(sql: string): void {
		guard(() => this.#database.exec(sql));
	}

	close(): void {
		this.#database.close();
	}
}

/**
 * node:sqlite's `DatabaseSync` as this Node has it: the real one (Node 22.5+), or the fake over
 * better-sqlite3 where there is none (Node 20), so that the node:sqlite path is tested on each.
 */
export const DatabaseSyncOrFake: DatabaseSyncClass = RealDatabaseSync ?? FakeDatabaseSync;
