// a table a newer release of this package migrated, met by this one: processes of both share the
// file while a deploy rolls out, and this one comes back on a rollback. a newer format this version
// still reads and writes (an index added, a column with a default) says so in its meta row
// (`compatible_from`: the oldest format version that reads and writes the table), and is used;
// any other is refused with `version_too_new`, untouched
import { describe, expect, it } from 'vitest';

import { StoreSchemaError } from './errors.ts';
import { failure, tempFileEach } from './internal/test-files.ts';
import { openRawDatabase } from './internal/test-raw-database.ts';
import { createSqliteLock } from './sqlite-lock.ts';
import { SqliteStore } from './sqlite-store.ts';

describe('a table a newer release migrated', () => {
	let path: string;
	const toClose = tempFileEach((file) => {
		path = file;
	});
	const raw = () => {
		const database = openRawDatabase(path);
		toClose.push(database);
		return database;
	};
	const open = (table = 'oauth_sessions') => {
		const store = new SqliteStore({ path, table });
		toClose.push(store);
		return store;
	};
	/** what a newer release's migration leaves: the format version, and the oldest that still works. */
	const migrateAsNewerRelease = (name: string, version: number, compatibleFrom: number | null) => {
		const database = raw();
		database.exec('ALTER TABLE atcute_oauth_schema ADD COLUMN compatible_from INTEGER');
		database
			.prepare('UPDATE atcute_oauth_schema SET version = ?, compatible_from = ? WHERE name = ?')
			.run(version, compatibleFrom, name);
	};
	const metaRows = () =>
		raw().prepare('SELECT name, kind, version, compatible_from FROM atcute_oauth_schema').all();

	it('reads and writes a store table whose newer format says this version still works with it, changing no record', async () => {
		await open().set('did:plc:abc', { refresh_token: 'r1' });
		migrateAsNewerRelease('oauth_sessions', 2, 1);
		const before = metaRows();

		const store = open();
		expect(await store.get('did:plc:abc')).toEqual({ refresh_token: 'r1' });
		await store.set('did:plc:abc', { refresh_token: 'r2' });
		expect(await open().get('did:plc:abc')).toEqual({ refresh_token: 'r2' });
		expect(metaRows()).toEqual(before);
	});

	it('takes a lock table whose newer format says this version still works with it', async () => {
		toClose.push(createSqliteLock({ path }));
		migrateAsNewerRelease('oauth_locks', 2, 1);

		const lock = createSqliteLock({ path });
		toClose.push(lock);
		expect(await lock('oauth-session-did:plc:abc', async () => 'held')).toBe('held');
	});

	it.each([
		['this version cannot work with', 2],
		['does not say which versions work with', null],
	])('refuses a table whose newer format %s, changing nothing', async (_case, compatibleFrom) => {
		await open().set('did:plc:abc', 1);
		migrateAsNewerRelease('oauth_sessions', 2, compatibleFrom);
		const before = metaRows();
		const error = await failure(() => open());
		expect(error).toBeInstanceOf(StoreSchemaError);
		expect(error).toMatchObject({ code: 'version_too_new', table: 'oauth_sessions' });
		expect(raw().prepare('SELECT count(*) AS n FROM oauth_sessions').get()).toEqual({ n: 1 });
		expect(metaRows()).toEqual(before);
	});
});
