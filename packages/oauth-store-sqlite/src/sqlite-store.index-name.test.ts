import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { failure, tempDir } from './internal/test-files.ts';
import { openRawDatabase, type RawDatabase } from './internal/test-raw-database.ts';
import { createSqliteLock } from './sqlite-lock.ts';
import { SqliteStore } from './sqlite-store.ts';

/** what version 1 of the package wrote for store table `table`, its expiry index included. */
const writeVersion1Store = (path: string, table: string): void => {
	const old = openRawDatabase(path);
	old.exec(
		`CREATE TABLE atcute_oauth_schema (name TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, version INTEGER NOT NULL)`,
	);
	old.exec(
		`CREATE TABLE "${table}" (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, expires_at INTEGER) STRICT`,
	);
	old.exec(`CREATE INDEX "${table}_expires_at" ON "${table}" (expires_at) WHERE expires_at IS NOT NULL`);
	old.prepare(`INSERT INTO atcute_oauth_schema VALUES (?, 'store', 1)`).run(table);
	old.close();
};

describe("SqliteStore's expiry index name", () => {
	let temp: ReturnType<typeof tempDir>;
	let path: string;
	const toClose: { close(): unknown }[] = [];
	const open = (table: string): SqliteStore => {
		const store = new SqliteStore({ path, table });
		toClose.push(store);
		return store;
	};
	const raw = (): RawDatabase => {
		const database = openRawDatabase(path);
		toClose.push(database);
		return database;
	};

	beforeEach(() => {
		temp = tempDir();
		path = temp.file();
	});
	afterEach(() => {
		for (const handle of toClose.splice(0)) handle.close();
		temp.remove();
	});

	it.each([
		['sess', 'sess_expires_at'],
		['sess_expires_at', 'sess'],
	])('lets store %s and store %s share a new file, in that order', async (first, second) => {
		const a = open(first);
		const b = open(second);
		await a.set('k', 'a', { expiresAt: Date.now() + 60_000 });
		await b.set('k', 'b', { expiresAt: Date.now() + 60_000 });
		expect([await a.get('k'), await b.get('k')]).toEqual(['a', 'b']);
	});

	it('lets a lock table take the name a store index had', async () => {
		open('sess');
		const lock = createSqliteLock({ path, table: 'sess_expires_at' });
		toClose.push(lock);
		expect(await lock('n', async () => 'held')).toBe('held');
	});

	it('finds expired rows of a new table through its index, not a scan', () => {
		open('sess');
		const plan = raw()
			.prepare(
				`EXPLAIN QUERY PLAN SELECT rowid FROM "sess" WHERE expires_at <= ? ORDER BY expires_at LIMIT ?`,
			)
			.all(0, 10) as { detail: string }[];
		expect(plan.map((row) => row.detail).join('\n')).toMatch(/USING (COVERING )?INDEX sess:expires_at/);
	});

	it("keeps a version 1 file's index, and refuses a table named like it with StoreSchemaError not_ours", async () => {
		writeVersion1Store(path, 'sess');
		const store = open('sess');
		await store.set('old', 1, { expiresAt: 1 });
		expect(await store.purge()).toBe(1);
		expect(
			raw()
				.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sess'`)
				.all()
				.map((row) => row.name),
		).toContain('sess_expires_at');

		for (const make of [
			() => open('sess_expires_at'),
			() => createSqliteLock({ path, table: 'SESS_EXPIRES_AT' }),
		]) {
			const error = await failure(make);
			expect(error).toMatchObject({ name: 'StoreSchemaError', code: 'not_ours' });
			expect((error as Error).message).toMatch(/index "sess_expires_at" has that name; choose another table/);
		}
	});
});
