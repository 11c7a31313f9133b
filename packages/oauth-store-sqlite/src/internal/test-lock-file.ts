import { createSqliteLock, type SqliteLock, type SqliteLockOptions } from '../sqlite-lock.ts';
import { tempFileEach } from './test-files.ts';
import { openRawDatabase, type RawDatabase } from './test-raw-database.ts';

/**
 * what the lock tests of a `describe` share: a fresh file per test (`path()`), locks on it
 * (`open`) and connections of the test's own (`raw`), each closed after the test, before the file
 * is removed.
 */
export const lockFileEach = (): {
	path: () => string;
	open: (options?: Omit<SqliteLockOptions, 'path' | 'database'>) => SqliteLock;
	raw: () => RawDatabase;
} => {
	let path = '';
	const toClose = tempFileEach((file) => {
		path = file;
	});
	return {
		path: () => path,
		open: (options = {}) => {
			const lock = createSqliteLock({ path, ...options });
			toClose.push(lock);
			return lock;
		},
		raw: () => {
			const database = openRawDatabase(path);
			toClose.push(database);
			return database;
		},
	};
};
