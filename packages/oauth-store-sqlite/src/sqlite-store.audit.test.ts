import { MAX_TIMER_MS } from '@atcute-oauth/internal/timer-delay';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreSchemaError, StoreUnavailableError } from './errors.ts';
import { defaultLoaders, selectDriver } from './internal/load-driver.ts';
import { sqliteCodeOf } from './internal/sqlite-code.ts';
import { failure, tempDir } from './internal/test-files.ts';
import { FakeDatabaseSync, RealDatabaseSync } from './internal/test-node-sqlite.ts';
import { openRawDatabase } from './internal/test-raw-database.ts';
import type { SqliteStatement } from './sqlite-database.ts';
import { createSqliteLock } from './sqlite-lock.ts';
import { SqliteStore } from './sqlite-store.ts';

/** the UTF-8 encoders of node:sqlite and bun:sqlite: a lone surrogate becomes U+FFFD. */
const asUtf8 = (value: unknown): unknown =>
	typeof value === 'string'
		? value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
		: value;

/**
 * node:sqlite's `DatabaseSync` where the fake over better-sqlite3 (for Node 20, which has none)
 * differs from it: strings are bound as UTF-8 (lone surrogates turn into U+FFFD), and closing a
 * closed connection throws, as node:sqlite does (`ERR_INVALID_STATE`, "database is not open").
 */
class NodeSqliteLike extends FakeDatabaseSync {
	#open = true;

	override prepare(sql: string): SqliteStatement {
		const statement = super.prepare(sql);
		return {
			run: (...params) => statement.run(...params.map(asUtf8)),
			get: (...params) => statement.get(...params.map(asUtf8)),
		};
	}

	override close(): void {
		if (!this.#open) {
			throw Object.assign(new Error('database is not open'), { code: 'ERR_INVALID_STATE' });
		}
		this.#open = false;
		super.close();
	}
}

/** node:sqlite's own `DatabaseSync` where this Node has it, else the look-alike above. */
const NodeSqlite = RealDatabaseSync ?? NodeSqliteLike;

describe('SqliteStore (audit fixes)', () => {
	let temp: ReturnType<typeof tempDir>;
	let path: string;
	const toClose: { close(): unknown }[] = [];
	const raw = () => {
		const database = openRawDatabase(path);
		toClose.push(database);
		return database;
	};
	const open = (options: Omit<ConstructorParameters<typeof SqliteStore>[0], 'path' | 'database'> = {}) => {
		const store = new SqliteStore({ path, ...options });
		toClose.push(store);
		return store;
	};

	beforeEach(() => {
		temp = tempDir();
		path = temp.file();
	});
	afterEach(() => {
		for (const handle of toClose.splice(0)) handle.close();
		vi.restoreAllMocks();
		temp.remove();
	});

	describe('keys with a lone surrogate', () => {
		it('are no entry on a node:sqlite-like connection, which would store them as U+FFFD in one row', async () => {
			const database = new NodeSqlite(path);
			toClose.push(database);
			const store = new SqliteStore({ database });
			// the row every such key would have named
			await store.set('state-\uFFFD', 'other');
			for (const key of ['state-\uD800', 'state-\uDC00', 'state-\uDBFF']) {
				await expect(store.set(key, 'mine')).rejects.toThrow(TypeError);
				await expect(store.set(key, 'mine')).rejects.toThrow(/lone surrogate/);
				expect(await store.get(key)).toBeUndefined();
				expect(await store.take(key)).toBeUndefined();
				await store.delete(key);
			}
			// neither read, taken nor deleted through them
			expect(await store.get('state-\uFFFD')).toBe('other');
		});

		it('are no entry on a path the store opens either (better-sqlite3 where it loads), so that every driver behaves alike', async () => {
			const store = open();
			await expect(store.set('a\uD800', 1)).rejects.toThrow(/lone surrogate/);
			expect(await store.get('a\uD800')).toBeUndefined();
			expect(await store.take('a\uD800')).toBeUndefined();
			await expect(store.delete('a\uD800')).resolves.toBeUndefined();
			expect(raw().prepare('SELECT count(*) AS n FROM oauth_store').get()).toEqual({ n: 0 });
			// a surrogate pair is a character like any other
			await store.set('a\uD83D\uDE00', 2);
			expect(await store.get('a\uD83D\uDE00')).toBe(2);
			// and a key that is not a string is still a TypeError, in every method
			await expect(store.get(1 as unknown as string)).rejects.toThrow(/key must be a string/);
			await expect(store.delete(1 as unknown as string)).rejects.toThrow(/key must be a string/);
		});
	});

	describe('a dropped table', () => {
		it('is made again by a store opened after it was dropped (its meta row left behind)', async () => {
			await open({ table: 'oauth_states' }).set('k', 1);
			raw().exec('DROP TABLE oauth_states');
			const store = open({ table: 'oauth_states' });
			expect(await store.get('k')).toBeUndefined();
			await store.set('k', 2);
			expect(await store.get('k')).toBe(2);
			expect(
				raw().prepare("SELECT kind, version FROM atcute_oauth_schema WHERE name = 'oauth_states'").all(),
			).toEqual([{ kind: 'store', version: 1 }]);
			// with its expiry index
			expect(
				raw()
					.prepare(
						"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'oauth_states' AND sql IS NOT NULL",
					)
					.all(),
			).toEqual([{ name: 'oauth_states:expires_at' }]);
		});

		it('is made again by a running store, whose statement then runs', async () => {
			const store = open({ table: 'oauth_states' });
			await store.set('k', 1);
			raw().exec('DROP TABLE oauth_states');
			await store.set('k', 2);
			expect(await store.get('k')).toBe(2);
			raw().exec('DROP TABLE oauth_states');
			expect(await store.take('k')).toBeUndefined();
			await store.set('j', 3);
			expect(await store.take('j')).toBe(3);
		});

		it('is made again on a node:sqlite-like connection too', async () => {
			const database = new NodeSqlite(path);
			toClose.push(database);
			const store = new SqliteStore({ database, table: 'oauth_states' });
			await store.set('k', 1);
			database.exec('DROP TABLE oauth_states');
			await store.set('k', 2);
			expect(await store.get('k')).toBe(2);
		});

		it("is not written into once a table that is not the package's has taken its name", async () => {
			const store = open({ table: 'oauth_states' });
			await store.set('k', 1);
			const other = raw();
			other.exec('DROP TABLE oauth_states');
			other.exec('CREATE TABLE oauth_states (id INTEGER PRIMARY KEY)');
			// SQLite's own words: the statement compiles against the new table, which has no such column
			expect(await failure(() => store.set('k', 2))).toMatchObject({
				name: 'StoreUnavailableError',
				operation: 'set',
			});
			expect(other.prepare('SELECT count(*) AS n FROM oauth_states').get()).toEqual({ n: 0 });
		});

		it('is refused with StoreSchemaError by a running store when an index has taken its name', async () => {
			const store = open({ table: 'oauth_states' });
			await store.set('k', 1);
			const other = raw();
			other.exec('DROP TABLE oauth_states');
			other.exec('CREATE TABLE app (x INTEGER)');
			other.exec('CREATE INDEX oauth_states ON app (x)');
			const error = await failure(() => store.set('k', 2));
			expect(error).toBeInstanceOf(StoreSchemaError);
			expect(error).toMatchObject({ code: 'not_ours', table: 'oauth_states' });
			expect((error as Error).message).toMatch(/index "oauth_states" has that name/);
		});

		it("leaves the app's own open transaction alone when it cannot start its own on a shared connection", async () => {
			const database = raw();
			database.pragma('journal_mode = WAL');
			database.exec('CREATE TABLE app (id INTEGER PRIMARY KEY)');
			database.exec('BEGIN');
			database.exec('INSERT INTO app (id) VALUES (1)');
			expect(await failure(() => new SqliteStore({ database: database.connection }))).toBeInstanceOf(
				StoreUnavailableError,
			);
			// not rolled back under the app
			expect(database.inTransaction).toBe(true);
			database.exec('COMMIT');
			expect(database.prepare('SELECT id FROM app').all()).toEqual([{ id: 1 }]);
		});
	});

	describe('table names differing only in letter case', () => {
		it('name the same table, as they do in SQLite', async () => {
			const first = open({ table: 'Sessions' });
			await first.set('k', 1);
			const second = open({ table: 'sessions' });
			expect(await second.get('k')).toBe(1);
			await second.set('j', 2);
			expect(await first.get('j')).toBe(2);
			expect(raw().prepare('SELECT name FROM atcute_oauth_schema').all()).toEqual([{ name: 'Sessions' }]);
		});

		it('are refused for the other kind with the true reason', async () => {
			open({ table: 'Sessions' });
			const error = await failure(() => createSqliteLock({ path, table: 'SESSIONS' }));
			expect(error).toMatchObject({ name: 'StoreSchemaError', code: 'not_ours' });
			expect((error as Error).message).toMatch(/is a store table, not a lock table/);
		});
	});

	describe('close()', () => {
		it('may be called twice on node:sqlite, which throws closing a closed connection', async () => {
			// better-sqlite3 "not installed": the path is opened with node:sqlite (the look-alike on Node 20)
			vi.spyOn(defaultLoaders, 'betterSqlite3').mockImplementation(() => {
				throw Object.assign(new Error("Cannot find module 'better-sqlite3'"), { code: 'MODULE_NOT_FOUND' });
			});
			vi.spyOn(defaultLoaders, 'nodeSqlite').mockImplementation(() => ({ DatabaseSync: NodeSqlite }));
			const store = new SqliteStore({ path });
			await store.set('k', 1);
			store.close();
			expect(() => store.close()).not.toThrow();
			const lock = createSqliteLock({ path });
			await lock('n', async () => {});
			lock.close();
			expect(() => lock.close()).not.toThrow();
			// the file was really opened through node:sqlite, and the data is there
			expect(await open().get('k')).toBe(1);
		});
	});

	describe('options', () => {
		it('refuses a now that is not a function, naming it', () => {
			expect(() => new SqliteStore({ path, now: 5 as unknown as () => number })).toThrow(TypeError);
			expect(() => new SqliteStore({ path, now: 5 as unknown as () => number })).toThrow(
				/now must be a function/,
			);
		});

		it('refuses a busyTimeout SQLite cannot hold (from 2^31 it would not wait at all)', () => {
			for (const busyTimeout of [2 ** 31, 2 ** 32 + 10, 1e12]) {
				expect(() => new SqliteStore({ path, busyTimeout })).toThrow(TypeError);
				expect(() => new SqliteStore({ path, busyTimeout })).toThrow(/busyTimeout .*2147483647/);
			}
			// the most SQLite holds
			expect(open({ busyTimeout: MAX_TIMER_MS }).table).toBe('oauth_store');
		});

		it('refuses a checkpointInterval a timer cannot wait (it would fire every millisecond)', () => {
			expect(() => new SqliteStore({ path, checkpointInterval: 2 ** 31 })).toThrow(
				/checkpointInterval .*2147483647/,
			);
			expect(() => createSqliteLock({ path, checkpointInterval: 3e9 })).toThrow(/checkpointInterval/);
			open({ checkpointInterval: MAX_TIMER_MS });
		});
	});

	describe('result codes', () => {
		it("names every primary result code in node:sqlite's numeric errcode, extended ones included", () => {
			expect(sqliteCodeOf({ errcode: 18 })).toBe('SQLITE_TOOBIG');
			expect(sqliteCodeOf({ errcode: 19 })).toBe('SQLITE_CONSTRAINT');
			// SQLITE_CONSTRAINT_PRIMARYKEY
			expect(sqliteCodeOf({ errcode: 1555 })).toBe('SQLITE_CONSTRAINT');
			for (let code = 1; code <= 28; code++)
				expect(sqliteCodeOf({ errcode: code })).toMatch(/^SQLITE_[A-Z]+$/);
			expect(new Set(Array.from({ length: 28 }, (_, i) => sqliteCodeOf({ errcode: i + 1 }))).size).toBe(28);
		});

		it('puts it on the StoreUnavailableError of a store on node:sqlite', async () => {
			const database = new NodeSqlite(path);
			toClose.push(database);
			// a value past SQLite's length limit, as node:sqlite reports it
			const tooBig = Object.assign(new Error('string or blob too big'), {
				code: 'ERR_SQLITE_ERROR',
				errcode: 18,
				errstr: 'string or blob too big',
			});
			const prepare = database.prepare.bind(database);
			vi.spyOn(database, 'prepare').mockImplementation((sql) => {
				const statement = prepare(sql);
				if (!sql.startsWith('INSERT INTO "oauth_store"')) return statement;
				return {
					...statement,
					run: () => {
						throw tooBig;
					},
				};
			});
			const store = new SqliteStore({ database });
			const error = await failure(() => store.set('k', 'v'));
			expect(error).toBeInstanceOf(StoreUnavailableError);
			expect(error).toMatchObject({ operation: 'set', sqliteCode: 'SQLITE_TOOBIG', transient: false });
			expect((error as Error).message).toContain('(SQLITE_TOOBIG)');
		});
	});

	describe('a better-sqlite3 whose addon does not load', () => {
		it('is named in the error, with the load error and `npm rebuild better-sqlite3`, not "install better-sqlite3"', () => {
			class AddonForAnotherNode {
				constructor() {
					throw Object.assign(
						new Error(
							"The module '/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 108.",
						),
						{ code: 'ERR_DLOPEN_FAILED' },
					);
				}
			}
			const error = failureSync(() =>
				selectDriver({ betterSqlite3: () => AddonForAnotherNode, nodeSqlite: () => undefined }),
			);
			expect(error.message).toContain('npm rebuild better-sqlite3');
			expect(error.message).toContain(
				'was compiled against a different Node.js version using NODE_MODULE_VERSION 115',
			);
			expect(error.message).not.toMatch(/install better-sqlite3/);
			expect(error.message).not.toContain('\n');
			expect(error.cause).toMatchObject({ code: 'ERR_DLOPEN_FAILED' });

			// one that fails on require (a missing build): the same
			const unbuilt = failureSync(() =>
				selectDriver({
					betterSqlite3: () => {
						throw new Error(`Could not locate the bindings file. Tried: ${'x'.repeat(1000)}`);
					},
					nodeSqlite: () => undefined,
				}),
			);
			expect(unbuilt.message).toMatch(
				/installed but cannot be loaded here \(Could not locate the bindings file/,
			);
			expect(unbuilt.message.length).toBeLessThan(600);

			// not installed at all: still told to install it
			const missing = failureSync(() =>
				selectDriver({
					betterSqlite3: () => {
						throw Object.assign(new Error("Cannot find module 'better-sqlite3'"), {
							code: 'MODULE_NOT_FOUND',
						});
					},
					nodeSqlite: () => undefined,
				}),
			);
			expect(missing.message).toMatch(/install better-sqlite3/);

			// a runtime with no require to load it with (a Workers-like one): not "installed but
			// cannot be loaded", which would send the reader to rebuild it
			const noRequire = failureSync(() =>
				selectDriver({
					betterSqlite3: () => {
						throw new TypeError('createRequire is not a function');
					},
					nodeSqlite: () => undefined,
				}),
			);
			expect(noRequire.message).not.toMatch(/installed but cannot be loaded|npm rebuild/);
		});
	});
});

const failureSync = (run: () => unknown): Error => {
	try {
		run();
	} catch (err) {
		return err as Error;
	}
	throw new Error('expected a failure');
};
