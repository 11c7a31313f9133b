import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../errors.ts';
import type { SqliteDatabase } from '../sqlite-database.ts';
import { connect } from './connection.ts';
import { type DriverLoaders, defaultLoaders, selectDriver } from './load-driver.ts';
import { tempDir } from './test-files.ts';
import { DatabaseSyncOrFake } from './test-node-sqlite.ts';

// the choice of driver is tested with fake modules, alike on every Node; the node:sqlite
// connection itself (the fake over better-sqlite3 on Node 20) runs the store conformance suite in
// conformance.test.ts, and the real better-sqlite3 is picked in load-driver.better-sqlite3.test.ts

class FakeBetterSqlite3 {
	constructor(readonly path: string) {}
	close(): void {}
}
class FakeNodeSqlite {
	constructor(readonly path: string) {}
}

// workerd's node:sqlite: the class exists, and constructing it throws
class IllegalDatabaseSync {
	constructor() {
		throw new TypeError('Illegal constructor');
	}
}

const notInstalled = () => {
	throw Object.assign(new Error("Cannot find module 'better-sqlite3'"), { code: 'MODULE_NOT_FOUND' });
};

describe('selectDriver', () => {
	it('picks better-sqlite3 when it is installed, even where node:sqlite exists', () => {
		const driver = selectDriver({
			betterSqlite3: () => FakeBetterSqlite3,
			nodeSqlite: () => ({ DatabaseSync: FakeNodeSqlite }),
		});
		expect(driver.name).toBe('better-sqlite3');
		const database = driver.open('/tmp/a.db') as unknown as FakeBetterSqlite3;
		expect(database).toBeInstanceOf(FakeBetterSqlite3);
		expect(database.path).toBe('/tmp/a.db');
	});

	it('accepts better-sqlite3 as an ES module namespace with a default export', () => {
		const driver = selectDriver({
			betterSqlite3: () => ({ default: FakeBetterSqlite3 }),
			nodeSqlite: () => undefined,
		});
		expect(driver.name).toBe('better-sqlite3');
		expect(driver.open('x.db')).toBeInstanceOf(FakeBetterSqlite3);
	});

	it('never tries better-sqlite3 where loading an addon would stop at a permission prompt (Deno)', () => {
		let tried = false;
		const driver = selectDriver({
			betterSqlite3: () => {
				tried = true;
				return FakeBetterSqlite3;
			},
			nodeSqlite: () => ({ DatabaseSync: FakeNodeSqlite }),
			addonsAllowed: () => false,
		});
		expect(tried).toBe(false);
		expect(driver.name).toBe('node:sqlite');
	});

	it('asks Deno what it grants without prompting: better-sqlite3 only with ffi and sys granted', () => {
		const queried: string[] = [];
		const grants = (granted: string[]) => ({
			permissions: {
				querySync: (descriptor: { name: string; kind?: string }) => {
					queried.push(
						descriptor.kind === undefined ? descriptor.name : `${descriptor.name}:${descriptor.kind}`,
					);
					return { state: granted.includes(descriptor.name) ? 'granted' : 'prompt' };
				},
				// what would prompt in a terminal: never to be called
				request: () => {
					throw new Error('prompted');
				},
			},
		});
		const global = globalThis as { Deno?: unknown };
		expect(global.Deno).toBeUndefined();
		try {
			global.Deno = grants(['ffi', 'sys']);
			expect(defaultLoaders.addonsAllowed?.()).toBe(true);
			expect(queried).toEqual(['ffi', 'sys:uid']);
			global.Deno = grants(['sys']);
			expect(defaultLoaders.addonsAllowed?.()).toBe(false);
			global.Deno = grants(['ffi']);
			expect(defaultLoaders.addonsAllowed?.()).toBe(false);
			global.Deno = {};
			expect(defaultLoaders.addonsAllowed?.()).toBe(false);
		} finally {
			delete global.Deno;
		}
		// not Deno: always
		expect(defaultLoaders.addonsAllowed?.()).toBe(true);
	});

	it('falls back to node:sqlite when better-sqlite3 is not installed', () => {
		const driver = selectDriver({
			betterSqlite3: notInstalled,
			nodeSqlite: () => ({ DatabaseSync: FakeNodeSqlite }),
		});
		expect(driver.name).toBe('node:sqlite');
		expect(driver.open('/tmp/b.db')).toBeInstanceOf(FakeNodeSqlite);
	});

	it('falls back to node:sqlite when better-sqlite3 is built for another Node', () => {
		const driver = selectDriver({
			betterSqlite3: () => {
				throw new Error('was compiled against a different Node.js version using NODE_MODULE_VERSION 115');
			},
			nodeSqlite: () => ({ DatabaseSync: FakeNodeSqlite }),
		});
		expect(driver.name).toBe('node:sqlite');
	});

	it('falls back to node:sqlite when better-sqlite3 loads but its native addon fails on open', () => {
		// the real module's shape: require() succeeds, and the addon is loaded by the constructor
		const opened: string[] = [];
		class AddonForAnotherNode {
			constructor(path: string) {
				opened.push(path);
				throw new Error('was compiled against a different Node.js version using NODE_MODULE_VERSION 115');
			}
		}
		const driver = selectDriver({
			betterSqlite3: () => AddonForAnotherNode,
			nodeSqlite: () => ({ DatabaseSync: FakeNodeSqlite }),
		});
		expect(driver.name).toBe('node:sqlite');
		expect(opened).toEqual([':memory:']);
		expect(driver.open('/tmp/c.db')).toBeInstanceOf(FakeNodeSqlite);
	});

	it("fails naming both drivers when neither loads, with better-sqlite3's error as the cause", () => {
		let error: unknown;
		try {
			selectDriver({ betterSqlite3: notInstalled, nodeSqlite: () => undefined });
		} catch (err) {
			error = err;
		}
		expect(error).toBeInstanceOf(Error);
		expect((error as Error).message).toMatch(/install better-sqlite3.*node:sqlite/);
		expect((error as Error).cause).toMatchObject({ code: 'MODULE_NOT_FOUND' });
	});

	it('says to use another store first on Cloudflare Workers without node:sqlite, never to install better-sqlite3', () => {
		let error: unknown;
		try {
			selectDriver({ betterSqlite3: notInstalled, nodeSqlite: () => undefined, onWorkers: () => true });
		} catch (err) {
			error = err;
		}
		expect(error).toBeInstanceOf(Error);
		expect((error as Error).message).toMatch(
			/^no SQLite driver: Cloudflare Workers .*; use another store here$/,
		);
		expect((error as Error).message).not.toMatch(/install better-sqlite3/);
		expect((error as Error).cause).toMatchObject({ code: 'MODULE_NOT_FOUND' });
	});

	it('knows Workers by the user agent they give every worker', () => {
		const navigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
		try {
			Object.defineProperty(globalThis, 'navigator', {
				value: { userAgent: 'Cloudflare-Workers' },
				configurable: true,
			});
			expect(defaultLoaders.onWorkers?.()).toBe(true);
			Object.defineProperty(globalThis, 'navigator', {
				value: { userAgent: 'Node.js/20' },
				configurable: true,
			});
			expect(defaultLoaders.onWorkers?.()).toBe(false);
		} finally {
			if (navigator) Object.defineProperty(globalThis, 'navigator', navigator);
			else delete (globalThis as { navigator?: unknown }).navigator;
		}
	});

	it('ignores a node:sqlite module without DatabaseSync', () => {
		expect(() => selectDriver({ betterSqlite3: notInstalled, nodeSqlite: () => ({}) })).toThrow(
			/no SQLite driver/,
		);
	});

	it('says so when node:sqlite is there but cannot open a database (Cloudflare Workers)', () => {
		let error: unknown;
		try {
			selectDriver({
				betterSqlite3: notInstalled,
				nodeSqlite: () => ({ DatabaseSync: IllegalDatabaseSync }),
			});
		} catch (err) {
			error = err;
		}
		expect(error).toBeInstanceOf(Error);
		expect((error as Error).message).toMatch(
			/has node:sqlite but it cannot open a database \(Illegal constructor\)/,
		);
		expect((error as Error).message).toMatch(/use another store here/);
		expect((error as Error).cause).toBeInstanceOf(TypeError);
	});
});

describe('connect', () => {
	const nodeSqliteOnly: DriverLoaders = {
		betterSqlite3: notInstalled,
		nodeSqlite: () => ({ DatabaseSync: DatabaseSyncOrFake }),
	};
	const pragma = (database: SqliteDatabase, name: string) =>
		Object.values(database.prepare(`PRAGMA ${name}`).get() as object)[0];

	it('opens a path through node:sqlite when that is the driver, in WAL with a busy timeout', () => {
		const temp = tempDir();
		try {
			const { database, owned } = connect({ path: temp.file() }, () => {}, nodeSqliteOnly);
			expect(owned).toBe(true);
			expect(database).toBeInstanceOf(DatabaseSyncOrFake);
			expect(pragma(database, 'journal_mode')).toBe('wal');
			expect(pragma(database, 'busy_timeout')).toBe(5000);
			database.close();
		} finally {
			temp.remove();
		}
	});

	it('fails to open a path with a StoreUnavailableError that is not transient where node:sqlite cannot open', () => {
		let error: unknown;
		try {
			connect({ path: '/tmp/never-made.db' }, () => {}, {
				betterSqlite3: notInstalled,
				nodeSqlite: () => ({ DatabaseSync: IllegalDatabaseSync }),
			});
		} catch (err) {
			error = err;
		}
		expect(error).toBeInstanceOf(StoreUnavailableError);
		expect((error as StoreUnavailableError).operation).toBe('open');
		expect((error as StoreUnavailableError).transient).toBe(false);
		expect((error as Error).message).toMatch(
			/^SQLite open failed: no SQLite driver: this runtime has node:sqlite/,
		);
	});

	it('refuses a path in a missing directory as not transient on node:sqlite too (which says SQLITE_CANTOPEN)', () => {
		// node:sqlite's answer for a missing directory, a code it also gives for what may pass
		class CannotOpen {
			constructor(path: string) {
				// the driver check opens one in memory
				if (path === ':memory:') return;
				throw Object.assign(new Error('unable to open database file'), {
					code: 'ERR_SQLITE_ERROR',
					errcode: 14,
					errstr: 'unable to open database file',
				});
			}
			close(): void {}
		}
		const temp = tempDir();
		try {
			let error: unknown;
			try {
				connect({ path: join(temp.dir, 'missing', 'oauth.db') }, () => {}, {
					betterSqlite3: notInstalled,
					nodeSqlite: () => ({ DatabaseSync: CannotOpen }),
				});
			} catch (err) {
				error = err;
			}
			expect(error).toBeInstanceOf(StoreUnavailableError);
			expect(error).toMatchObject({ operation: 'open', transient: false, sqliteCode: undefined });
			expect((error as Error).message).toBe(
				'SQLite open failed: Cannot open database because the directory does not exist',
			);
			// a directory that is there goes on to the driver, whose own failure is reported as before
			expect(() =>
				connect({ path: join(temp.dir, 'oauth.db') }, () => {}, {
					betterSqlite3: notInstalled,
					nodeSqlite: () => ({ DatabaseSync: CannotOpen }),
				}),
			).toThrow(expect.objectContaining({ sqliteCode: 'SQLITE_CANTOPEN', transient: true }));
		} finally {
			temp.remove();
		}
	});

	it('gives a connection without a busy timeout one, and leaves one that has it', () => {
		const temp = tempDir();
		try {
			const bare = new DatabaseSyncOrFake(temp.file());
			expect(pragma(bare, 'busy_timeout')).toBe(0);
			connect({ database: bare }, () => {});
			expect(pragma(bare, 'busy_timeout')).toBe(5000);

			const tuned = new DatabaseSyncOrFake(temp.file());
			tuned.exec('PRAGMA busy_timeout = 1234');
			const { owned } = connect({ database: tuned }, () => {});
			expect(owned).toBe(false);
			expect(pragma(tuned, 'busy_timeout')).toBe(1234);
			bare.close();
			tuned.close();
		} finally {
			temp.remove();
		}
	});
});
