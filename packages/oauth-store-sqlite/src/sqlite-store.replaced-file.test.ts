import { copyFileSync, renameSync, rmSync } from 'node:fs';

import { LockUnavailableError } from '@atcute/oauth-client';
import { describe, expect, it } from 'vitest';

import { StoreUnavailableError } from './errors.ts';
import { failure, tempFileEach } from './internal/test-files.ts';
import { createSqliteLock } from './sqlite-lock.ts';
import { SqliteStore } from './sqlite-store.ts';

// SQLite writes on into a file deleted (a cleanup job's `rm`) or replaced (a backup restored with
// `mv`) under a running app, without an error: every write is lost at the next start, and a
// process started meanwhile opens the file now at the path, whose leases are not the running ones'

const removeFiles = (path: string) => {
	for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
};

describe('a store or lock whose file was deleted or replaced under it', () => {
	let path = '';
	const toClose = tempFileEach((file) => {
		path = file;
	});

	it('refuses writes (not transient) instead of writing into the deleted file, and still reads', async () => {
		const store = new SqliteStore({ path, table: 'oauth_sessions' });
		toClose.push(store);
		await store.set('did:plc:alice', { v: 1 });
		removeFiles(path);

		const error = await failure(() => store.set('did:plc:alice', { v: 2 }));
		expect(error).toBeInstanceOf(StoreUnavailableError);
		expect(error).toMatchObject({ operation: 'set', transient: false, sqliteCode: undefined });
		expect((error as Error).message).toMatch(/deleted or replaced/);
		await expect(store.delete('did:plc:alice')).rejects.toMatchObject({
			operation: 'delete',
			transient: false,
		});
		await expect(store.take('did:plc:alice')).rejects.toMatchObject({ operation: 'take', transient: false });
		expect(await store.get('did:plc:alice')).toEqual({ v: 1 });
	});

	it('refuses writes once a copy was moved over it (a backup restored)', async () => {
		const store = new SqliteStore({ path });
		toClose.push(store);
		await store.set('k', 1);
		copyFileSync(path, `${path}.bak`);
		renameSync(`${path}.bak`, path);
		await expect(store.set('k', 2)).rejects.toMatchObject({ operation: 'set', transient: false });
	});

	it('refuses a lock before its holder runs, while a lock on the new file holds the name', async () => {
		const before = createSqliteLock({ path });
		toClose.push(before);
		await before('did:plc:alice', async () => {});
		removeFiles(path);
		// a process started since: its file is a new one at the path
		const after = createSqliteLock({ path });
		toClose.push(after);

		let ran = 0;
		const error = await after('did:plc:alice', () =>
			failure(() =>
				before('did:plc:alice', async () => {
					ran++;
				}),
			),
		);
		expect(ran).toBe(0);
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect(error).toMatchObject({ lockName: 'did:plc:alice', transient: false });
		expect((error as LockUnavailableError).cause).toMatchObject({ operation: 'lock', transient: false });
	});
});
