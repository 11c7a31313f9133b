import { describeLock, describeStore } from '@atcute-oauth/store-conformance';

import { tempDir } from './internal/test-files.ts';
import { DatabaseSyncOrFake } from './internal/test-node-sqlite.ts';
import { openRawDatabase, RAW_DRIVER, type RawDatabase } from './internal/test-raw-database.ts';
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
	`SqliteStore on a given ${RAW_DRIVER} connection`,
	async () => {
		const temp = tempDir();
		const path = temp.file();
		const connections: RawDatabase[] = [];
		const open = () => {
			const database = openRawDatabase(path);
			database.pragma('journal_mode = WAL');
			connections.push(database);
			return new SqliteStore({ database: database.connection, table: 'oauth_states' });
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

// node:sqlite's DatabaseSync: the real one, or where this Node has none (20) a fake over better-sqlite3
describeStore(
	'SqliteStore on a node:sqlite-shaped connection',
	async () => {
		const temp = tempDir();
		const path = temp.file();
		const connections: InstanceType<typeof DatabaseSyncOrFake>[] = [];
		const open = () => {
			const database = new DatabaseSyncOrFake(path);
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
