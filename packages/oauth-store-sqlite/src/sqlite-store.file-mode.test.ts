import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { tempFileEach } from './internal/test-files.ts';
import { createSqliteLock } from './sqlite-lock.ts';
import { SqliteStore } from './sqlite-store.ts';

// the file holds every session's refresh token and DPoP private key: SQLite made it, and its -wal
// and -shm, 0644 under the usual umask (022), readable by every local user
const modeOf = (file: string) => statSync(file).mode & 0o777;

describe.skipIf(process.platform === 'win32')('the mode of the files a store or lock creates', () => {
	let path = '';
	const toClose = tempFileEach((file) => {
		path = file;
	});

	it('creates the database, its -wal and its -shm readable and writable by the owner alone', async () => {
		const store = new SqliteStore({ path, table: 'oauth_sessions' });
		toClose.push(store);
		await store.set('did:plc:alice', { refresh_token: 'secret' });
		const files = readdirSync(dirname(path));
		expect(files.sort()).toEqual(['oauth.db', 'oauth.db-shm', 'oauth.db-wal']);
		for (const file of files) expect([file, modeOf(join(dirname(path), file))]).toEqual([file, 0o600]);
	});

	it('creates a lock file for the owner alone too', () => {
		toClose.push(createSqliteLock({ path }));
		expect(modeOf(path)).toBe(0o600);
	});

	it('leaves the mode of a file that is there alone (an app that shares it with a group chose so)', async () => {
		writeFileSync(path, '');
		chmodSync(path, 0o640);
		const store = new SqliteStore({ path });
		toClose.push(store);
		await store.set('k', 1);
		expect(modeOf(path)).toBe(0o640);
		expect(modeOf(`${path}-wal`)).toBe(0o640);
	});
});
