import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { OAuthClient, type OAuthClientOptions, SessionNotFoundError } from '@atcute/oauth-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { StoreSchemaError, StoreUnavailableError } from './errors.ts';
import { connect } from './internal/connection.ts';
import { failure, tempDir } from './internal/test-files.ts';
import { DatabaseSyncOrFake } from './internal/test-node-sqlite.ts';
import { openRawDatabase } from './internal/test-raw-database.ts';
import { createSqliteLock } from './sqlite-lock.ts';
import { SqliteStore } from './sqlite-store.ts';

const clock = (start = 1_700_000_000_000) => {
	let now = start;
	return {
		now: () => now,
		advance: (ms: number) => {
			now += ms;
		},
	};
};

describe('SqliteStore', () => {
	let temp: ReturnType<typeof tempDir>;
	let path: string;
	const toClose: { close(): unknown }[] = [];
	/** a raw connection to the same file, to look at (and tamper with) what the store wrote. */
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
		temp.remove();
	});

	describe('schema', () => {
		it('creates its table on first use and records format version 1', () => {
			open({ table: 'oauth_sessions' });
			expect(raw().prepare('SELECT name, kind, version FROM atcute_oauth_schema').all()).toEqual([
				{ name: 'oauth_sessions', kind: 'store', version: 1 },
			]);
		});

		it('switches a file it opens to WAL', () => {
			open();
			expect(raw().pragma('journal_mode')).toBe('wal');
		});

		it('creates new files with 16 KB pages and runs synchronous=NORMAL on every connection it opens', async () => {
			// the connection that creates the file and switches it to WAL (SQLite leaves that one at FULL)
			const first = connect({ path }, () => {});
			toClose.push(first.database);
			expect(first.database.prepare('PRAGMA synchronous').get()).toEqual({ synchronous: 1 });
			// and a later one, on the existing file
			const store = open();
			await store.set('a', 1);
			const second = connect({ path }, () => {});
			toClose.push(second.database);
			expect(second.database.prepare('PRAGMA synchronous').get()).toEqual({ synchronous: 1 });
			expect(raw().pragma('page_size')).toBe(16_384);
		});

		it('memory-maps a file it opens for reads, by default up to the SQLite ceiling, and mmapSize sets or disables it', () => {
			const byDefault = connect({ path }, () => {});
			toClose.push(byDefault.database);
			expect(byDefault.database.prepare('PRAGMA mmap_size').get()).toEqual({ mmap_size: 0x7fff0000 });
			const small = connect({ path, mmapSize: 1 << 20 }, () => {});
			toClose.push(small.database);
			expect(small.database.prepare('PRAGMA mmap_size').get()).toEqual({ mmap_size: 1 << 20 });
			const off = connect({ path, mmapSize: 0 }, () => {});
			toClose.push(off.database);
			expect(off.database.prepare('PRAGMA mmap_size').get()).toEqual({ mmap_size: 0 });
		});

		it('reads and writes through the memory map as without it', async () => {
			const mapped = open();
			const plain = new SqliteStore({ path, mmapSize: 0 });
			toClose.push(plain);
			await mapped.set('a', { token: 'x'.repeat(5_000) });
			expect(await plain.get('a')).toEqual({ token: 'x'.repeat(5_000) });
			await plain.set('b', { n: 2 });
			expect(await mapped.get('b')).toEqual({ n: 2 });
		});

		it('keeps working on a file made by the previous version (4 KB pages, same table format)', async () => {
			// exactly what version 1 of the package wrote: default pages, its table, its index, its record
			const old = openRawDatabase(path);
			old.pragma('journal_mode = WAL');
			old.exec(
				`CREATE TABLE atcute_oauth_schema (name TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, version INTEGER NOT NULL)`,
			);
			old.exec(
				`CREATE TABLE "oauth_store" (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, expires_at INTEGER) STRICT`,
			);
			old.exec(
				`CREATE INDEX "oauth_store_expires_at" ON "oauth_store" (expires_at) WHERE expires_at IS NOT NULL`,
			);
			old.prepare(`INSERT INTO atcute_oauth_schema VALUES ('oauth_store', 'store', 1)`).run();
			old
				.prepare(`INSERT INTO "oauth_store" VALUES ('did:plc:old', '{"kept":true}', NULL), ('gone', '1', 1)`)
				.run();
			old.close();

			const time = clock();
			const store = open({ now: time.now });
			expect(await store.get('did:plc:old')).toEqual({ kept: true });
			await store.set('did:plc:new', { n: 1 });
			expect(await store.get('did:plc:new')).toEqual({ n: 1 });
			expect(await store.purge()).toBe(1);
			// the file keeps its page size: only a new file takes 16 KB pages
			expect(raw().pragma('page_size')).toBe(4096);
		});

		it('opens on a file whose tables are current while another process holds the write lock, without waiting', async () => {
			await open().set('did:plc:abc', { refresh_token: 'r1' });
			createSqliteLock({ path, table: 'oauth_locks' }).close();
			const other = raw();
			other.exec('BEGIN IMMEDIATE');
			// the tables are checked with reads alone: a writer elsewhere holds up neither a store nor
			// a lock on the same file (each would wait out busyTimeout, then throw)
			const store = open({ busyTimeout: 2_000 });
			const lock = createSqliteLock({ path, table: 'oauth_locks', busyTimeout: 2_000 });
			toClose.push({ close: () => lock.close() });
			expect(await store.get('did:plc:abc')).toEqual({ refresh_token: 'r1' });
			other.exec('ROLLBACK');
		});

		it("opens on a connection inside the app's own open transaction when its table is current", async () => {
			await open().set('did:plc:abc', { refresh_token: 'r1' });
			const database = raw();
			database.exec('BEGIN');
			const store = new SqliteStore({ database: database.connection });
			expect(await store.get('did:plc:abc')).toEqual({ refresh_token: 'r1' });
			database.exec('ROLLBACK');
		});

		it('keeps its data across close and reopen', async () => {
			const first = open();
			await first.set('did:plc:abc', { refresh_token: 'r1' });
			first.close();
			expect(await open().get('did:plc:abc')).toEqual({ refresh_token: 'r1' });
		});

		it('refuses a table made by a newer version, changing nothing', async () => {
			await open({ table: 'oauth_sessions' }).set('did:plc:abc', 1);
			raw().prepare("UPDATE atcute_oauth_schema SET version = 2 WHERE name = 'oauth_sessions'").run();
			const error = await failure(() => open({ table: 'oauth_sessions' }));
			expect(error).toBeInstanceOf(StoreSchemaError);
			expect(error).toMatchObject({ code: 'version_too_new', table: 'oauth_sessions' });
			expect((error as Error).message).toMatch(/version 2.*upgrade the package/);
			expect(raw().prepare('SELECT count(*) AS n FROM oauth_sessions').get()).toEqual({ n: 1 });
		});

		it('refuses a table of that name it did not make', async () => {
			raw().exec('CREATE TABLE app_data (id INTEGER PRIMARY KEY)');
			expect(await failure(() => open({ table: 'app_data' }))).toMatchObject({
				name: 'StoreSchemaError',
				code: 'not_ours',
			});
		});

		it('refuses a lock table as a store table', async () => {
			toClose.push(createSqliteLock({ path, table: 'shared_name' }));
			expect(await failure(() => open({ table: 'shared_name' }))).toMatchObject({ code: 'not_ours' });
		});

		it('keeps two tables in one file apart, clear included', async () => {
			const sessions = open({ table: 'oauth_sessions' });
			const states = open({ table: 'oauth_states' });
			await sessions.set('k', 'session');
			await states.set('k', 'state');
			await states.clear();
			expect(await sessions.get('k')).toBe('session');
			expect(await states.get('k')).toBeUndefined();
		});
	});

	describe('rows', () => {
		it('stores values as JSON text and expiresAt in expires_at, rounded up', async () => {
			const store = open();
			await store.set('a', { n: 1, s: 'ü' }, { expiresAt: 1_700_000_000_000.2 });
			await store.set('b', [1]);
			expect(raw().prepare('SELECT key, value, expires_at FROM oauth_store ORDER BY key').all()).toEqual([
				{ key: 'a', value: '{"n":1,"s":"ü"}', expires_at: 1_700_000_000_001 },
				{ key: 'b', value: '[1]', expires_at: null },
			]);
		});

		it('hides an expired row from get and take before it is purged', async () => {
			const time = clock();
			const store = open({ now: time.now });
			await store.set('a', 1, { expiresAt: time.now() + 1000 });
			await store.set('b', 2, { expiresAt: time.now() + 1000 });
			time.advance(999);
			expect(await store.get('a')).toBe(1);
			time.advance(1);
			expect(await store.get('a')).toBeUndefined();
			expect(await store.take('b')).toBeUndefined();
			// get leaves the row for the purge; take deleted it
			expect(raw().prepare('SELECT key FROM oauth_store').all()).toEqual([{ key: 'a' }]);
		});

		it('purges off the write path: a write deletes nothing, later steps of purgeLimit rows delete every expired one', async () => {
			const time = clock();
			const store = open({ now: time.now, purgeInterval: 10, purgeLimit: 4 });
			const expired = () =>
				(
					raw().prepare('SELECT count(*) AS n FROM oauth_store WHERE expires_at <= ?').get(time.now()) as {
						n: number;
					}
				).n;
			for (let i = 0; i < 30; i++) await store.set(`old-${i}`, i, { expiresAt: time.now() + 1000 });
			await new Promise((resolve) => setTimeout(resolve, 20));
			time.advance(1000);
			expect(expired()).toBe(30);
			for (let i = 0; i < 10; i++) await store.set(`new-${i}`, i);
			// the 10th write scheduled the purge but did not run it
			expect(expired()).toBe(30);
			// steps of 4 follow one another, each on its own turn, until none is left
			await vi.waitFor(() => expect(expired()).toBe(0));
			expect(await store.get('new-0')).toBe(0);
			expect(raw().prepare('SELECT count(*) AS n FROM oauth_store').get()).toEqual({ n: 10 });
		});

		it('deletes at most purgeLimit rows per step, the earliest expiry first', async () => {
			const time = clock();
			const store = open({ now: time.now, purgeInterval: 1000, purgeLimit: 4 });
			for (let i = 0; i < 10; i++) await store.set(`k-${i}`, i, { expiresAt: time.now() + 100 + i });
			await store.set('later', 1, { expiresAt: time.now() + 60_000 });
			time.advance(105);
			expect(await store.purge()).toBe(4);
			expect(await store.purge()).toBe(2);
			expect(await store.purge()).toBe(0);
			const left = raw().prepare('SELECT key FROM oauth_store ORDER BY key').all();
			expect(left).toEqual([
				{ key: 'k-6' },
				{ key: 'k-7' },
				{ key: 'k-8' },
				{ key: 'k-9' },
				{ key: 'later' },
			]);
			time.advance(1000);
			expect(await store.purge()).toBe(4);
			expect(await store.purge()).toBe(0);
			expect(await store.get('later')).toBe(1);
		});

		it('stops purging when closed', async () => {
			const time = clock();
			const store = open({ now: time.now, purgeInterval: 1, purgeLimit: 1 });
			for (let i = 0; i < 5; i++) await store.set(`k-${i}`, i, { expiresAt: time.now() + 1 });
			time.advance(10);
			await store.set('x', 1);
			store.close();
			// a scheduled step finds the store closed and does nothing (it would throw on a closed connection)
			await new Promise((resolve) => setTimeout(resolve, 20));
			expect(raw().prepare('SELECT count(*) AS n FROM oauth_store').get()).toEqual({ n: 6 });
		});

		it('finds expired rows for the purge through the expires_at index, not a table scan', () => {
			open();
			const plan = raw()
				.prepare(
					`EXPLAIN QUERY PLAN DELETE FROM "oauth_store" WHERE rowid IN (
					   SELECT rowid FROM "oauth_store" WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
				)
				.all(0, 10) as { detail: string }[];
			const details = plan.map((row) => row.detail).join('\n');
			expect(details).toMatch(/USING (COVERING )?INDEX oauth_store:expires_at/);
			expect(details).not.toMatch(/\bSCAN\b/);
		});
	});

	describe('failures', () => {
		it('fails to open a file in a missing directory with StoreUnavailableError', async () => {
			const error = await failure(() => new SqliteStore({ path: join(temp.dir, 'missing', 'oauth.db') }));
			expect(error).toBeInstanceOf(StoreUnavailableError);
			expect(error).toMatchObject({ operation: 'open', transient: false });
			expect((error as Error).message).toMatch(/directory does not exist/);
			expect((error as Error).cause).toBeInstanceOf(Error);
		});

		it('fails to open a path that is a directory with StoreUnavailableError (SQLITE_CANTOPEN)', async () => {
			expect(await failure(() => new SqliteStore({ path: temp.dir }))).toMatchObject({
				name: 'StoreUnavailableError',
				operation: 'open',
				sqliteCode: 'SQLITE_CANTOPEN',
			});
		});

		it('fails to open a file that is not a database with StoreUnavailableError', async () => {
			writeFileSync(path, 'this is not a database, it is a text file of some length '.repeat(100));
			expect(await failure(() => new SqliteStore({ path }))).toMatchObject({
				name: 'StoreUnavailableError',
				operation: 'open',
				sqliteCode: 'SQLITE_NOTADB',
			});
		});

		it('rejects every operation with StoreUnavailableError, never undefined, once its connection is gone', async () => {
			const store = open();
			await store.set('did:plc:abc', { refresh_token: 'r1' });
			store.close();
			for (const [operation, run] of [
				['get', () => store.get('did:plc:abc')],
				['set', () => store.set('did:plc:abc', 1)],
				['delete', () => store.delete('did:plc:abc')],
				['take', () => store.take('did:plc:abc')],
				['clear', () => store.clear()],
			] as const) {
				const error = await failure(run);
				expect(error).toBeInstanceOf(StoreUnavailableError);
				expect(error).toMatchObject({ operation });
			}
			// and nothing was lost
			expect(await open().get('did:plc:abc')).toEqual({ refresh_token: 'r1' });
		});

		it('rejects a write with a transient StoreUnavailableError while another process holds the write lock past busyTimeout', async () => {
			const store = open({ busyTimeout: 50 });
			await store.set('did:plc:abc', { refresh_token: 'r1' });
			const other = raw();
			other.exec('BEGIN IMMEDIATE');
			const error = await failure(() => store.set('did:plc:abc', { refresh_token: 'r2' }));
			expect(error).toMatchObject({
				name: 'StoreUnavailableError',
				operation: 'set',
				sqliteCode: 'SQLITE_BUSY',
				transient: true,
			});
			// readers are not blocked in WAL mode
			expect(await store.get('did:plc:abc')).toEqual({ refresh_token: 'r1' });
			other.exec('ROLLBACK');
			await store.set('did:plc:abc', { refresh_token: 'r2' });
			expect(await store.get('did:plc:abc')).toEqual({ refresh_token: 'r2' });
		});

		it('rejects a write on a full disk with a transient StoreUnavailableError, and writes once there is room', async () => {
			const database = raw();
			database.pragma('journal_mode = WAL');
			const store = new SqliteStore({ database: database.connection });
			await store.set('did:plc:abc', { refresh_token: 'r1' });
			// a connection whose database may not grow: what a full disk answers (SQLITE_FULL)
			const pages = database.pragma('page_count') as number;
			database.pragma(`max_page_count = ${pages}`);
			const big = { refresh_token: 'x'.repeat(200_000) };
			const error = await failure(() => store.set('did:plc:big', big));
			expect(error).toMatchObject({
				name: 'StoreUnavailableError',
				sqliteCode: 'SQLITE_FULL',
				transient: true,
			});
			// room again: the same write goes through
			database.pragma('max_page_count = 1073741823');
			await store.set('did:plc:big', big);
			expect(await store.get('did:plc:big')).toEqual(big);
		});

		it.each([
			[{ code: 'SQLITE_BUSY_SNAPSHOT' }, true],
			[{ code: 'SQLITE_IOERR_FSYNC' }, true],
			[{ code: 'SQLITE_NOMEM' }, true],
			[{ code: 'SQLITE_CANTOPEN' }, true],
			[{ errcode: 13 }, true],
			[{ errcode: 8 | (1 << 8) }, true],
			[{ code: 'SQLITE_READONLY' }, false],
			[{ code: 'SQLITE_CORRUPT' }, false],
			[{ code: 'SQLITE_NOTADB' }, false],
			[{ errcode: 26 }, false],
			[new TypeError('The database connection is not open'), false],
			[new SyntaxError('Unexpected token'), false],
		])('calls a failure with %o transient: %s', (cause, transient) => {
			expect(new StoreUnavailableError('get', 'failed', { cause }).transient).toBe(transient);
		});

		it('reads node:sqlite result codes the same way', async () => {
			const database = new DatabaseSyncOrFake(path);
			toClose.push(database);
			database.exec('PRAGMA journal_mode = WAL');
			const store = new SqliteStore({ database, busyTimeout: 50 });
			const other = raw();
			other.exec('BEGIN IMMEDIATE');
			expect(await failure(() => store.set('a', 1))).toMatchObject({
				sqliteCode: 'SQLITE_BUSY',
				transient: true,
			});
			other.exec('ROLLBACK');
		});

		it('rejects a stored value that is not JSON without quoting it', async () => {
			const store = open();
			await store.set('did:plc:abc', 'placeholder');
			raw()
				.prepare("UPDATE oauth_store SET value = 'secret-refresh-token {' WHERE key = 'did:plc:abc'")
				.run();
			const error = await failure(() => store.get('did:plc:abc'));
			expect(error).toMatchObject({ name: 'StoreUnavailableError', operation: 'get' });
			expect(String(error)).not.toContain('secret-refresh-token');
			expect((error as Error).cause).toBeUndefined();
		});

		it('keeps the session when its store fails: restore() rejects with the store error, not SessionNotFoundError', async () => {
			const sessions = open({ table: 'oauth_sessions' });
			const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
			await sessions.set(did, { tokenSet: { sub: did, refresh_token: 'r1' } });
			const client = new OAuthClient({
				metadata: { redirect_uris: ['http://127.0.0.1:8080/callback'], scope: 'atproto' },
				stores: { sessions, states: open({ table: 'oauth_states' }) } as OAuthClientOptions['stores'],
				actorResolver: {
					resolve: async () => {
						throw new Error('not used');
					},
				},
			});
			sessions.close();
			const error = await failure(() => client.restore(did));
			expect(error).toBeInstanceOf(StoreUnavailableError);
			expect(error).not.toBeInstanceOf(SessionNotFoundError);
			expect(await open({ table: 'oauth_sessions' }).get(did)).toMatchObject({
				tokenSet: { refresh_token: 'r1' },
			});
		});
	});

	describe('arguments', () => {
		it('needs exactly one of database and path', () => {
			expect(() => new SqliteStore({})).toThrow(
				new TypeError('give exactly one of database (an open connection) and path (a file), got neither'),
			);
			const database = raw();
			expect(() => new SqliteStore({ database: database.connection, path })).toThrow(
				new TypeError('give exactly one of database (an open connection) and path (a file), got both'),
			);
		});

		it('refuses options that are not an object with a TypeError saying so', () => {
			// biome-ignore lint/suspicious/noExplicitAny: a caller without types
			const Store = SqliteStore as any;
			expect(() => new Store()).toThrow(
				new TypeError('SqliteStore options must be an object ({ path } or { database }), got undefined'),
			);
			expect(() => new Store(null)).toThrow(
				new TypeError('SqliteStore options must be an object ({ path } or { database }), got null'),
			);
			expect(() => new Store(path)).toThrow(
				new TypeError('SqliteStore options must be an object ({ path } or { database }), got string'),
			);
		});

		it('rejects a table name that is not a plain identifier', () => {
			for (const table of ['x; DROP TABLE y', 'has space', '1abc', 'sqlite_master', '"q"', '']) {
				expect(() => new SqliteStore({ path, table })).toThrow(/table must be a plain SQL identifier/);
			}
		});

		it('rejects bad numbers with a TypeError naming the option', () => {
			expect(() => new SqliteStore({ path, purgeInterval: 0 })).toThrow(/purgeInterval/);
			expect(() => new SqliteStore({ path, purgeLimit: 1.5 })).toThrow(/purgeLimit/);
			expect(() => new SqliteStore({ path, busyTimeout: -1 })).toThrow(/busyTimeout/);
			expect(() => new SqliteStore({ path, mmapSize: -1 })).toThrow(/mmapSize/);
			expect(() => new SqliteStore({ path, mmapSize: 1.5 })).toThrow(/mmapSize/);
			expect(() => new SqliteStore({ path, checkpointInterval: -1 })).toThrow(TypeError);
			expect(() => new SqliteStore({ path, checkpointInterval: 2.5 })).toThrow(/checkpointInterval/);
		});

		it('rejects values JSON cannot hold and an expiresAt that is not a finite number', async () => {
			const store = open();
			await expect(store.set('a', undefined)).rejects.toThrow(TypeError);
			await expect(store.set('a', () => {})).rejects.toThrow(/JSON-serialisable/);
			await expect(store.set('a', 1, { expiresAt: Number.NaN })).rejects.toThrow(/expiresAt/);
			await expect(store.get(1 as unknown as string)).rejects.toThrow(/key must be a string/);
		});
	});
});
