import { describeLock, describeStore } from '@atcute-oauth/store-conformance';
import Database from 'better-sqlite3';

import { tempDir } from './internal/test-files.ts';
import { FakeDatabaseSync } from './internal/test-node-sqlite.ts';
import { createSqliteLock } from './sqlite-lock.ts';
import { SqliteStore } from './sqlite-store.ts';

// a real file in a temporary directory; reopen is a second connection to it
describeStore(
	'SqliteStore',
	async () => {
		const temp = tempDir();
		const path = temp.file();
		const opened: SqliteStore[] = [];
		const open = () => {
			const store = new SqliteStore({ path, table: 'oauth_sessions' });
			opened.push(store);
			return store;
		};
		return {
			store: open(),
			reopen: async () => open(),
			cleanup: async () => {
				for (const store of opened) store.close();
				temp.remove();
			},
		};
	},
	{ atomicTake: true, expiry: true },
);

// a connection the app opened and passes in, as a shared database would be
describeStore(
	'SqliteStore on a given better-sqlite3 connection',
	async () => {
		const temp = tempDir();
		const path = temp.file();
		const connections: Database.Database[] = [];
		const open = () => {
			const database = new Database(path);
			database.pragma('journal_mode = WAL');
			connections.push(database);
			return new SqliteStore({ database, table: 'oauth_states' });
		};
		return {
			store: open(),
			reopen: async () => open(),
			cleanup: async () => {
				for (const database of connections) database.close();
				temp.remove();
			},
		};
	},
	{ atomicTake: true, expiry: true },
);

// other is a second connection to the same file, as another process would have
describeLock('createSqliteLock', async () => {
	const temp = tempDir();
	const path = temp.file();
	const locks = [createSqliteLock({ path, timeout: 1_000 })];
	return {
		lock: locks[0]!,
		other: async () => {
			const lock = createSqliteLock({ path, timeout: 1_000 });
			locks.push(lock);
			return lock;
		},
		cleanup: async () => {
			for (const lock of locks) lock.close();
			temp.remove();
		},
	};
});

// the shape of node:sqlite's DatabaseSync (absent on this Node 20), faked over better-sqlite3
describeStore(
	'SqliteStore on a node:sqlite-shaped connection',
	async () => {
		const temp = tempDir();
		const path = temp.file();
		const connections: FakeDatabaseSync[] = [];
		const open = () => {
			const database = new FakeDatabaseSync(path);
			database.exec('PRAGMA journal_mode = WAL');
			connections.push(database);
			return new SqliteStore({ database });
		};
		return {
			store: open(),
			reopen: async () => open(),
			cleanup: async () => {
				for (const database of connections) database.close();
				temp.remove();
			},
		};
	},
	{ atomicTake: true, expiry: true },
);
