import { rmSync } from 'node:fs';

import type { Did } from '@atcute/lexicons';
import { LockUnavailableError, type StoredSession, type StoredState } from '@atcute/oauth-client';
import { describe, expect, it } from 'vitest';

import { createTestClient, signIn } from '../../oauth-client/src/test-utils/setup.ts';
import { createSqliteLock, SqliteStore } from '../src/index.ts';
import { useAppTestEnv } from './support/use-app-test-env.ts';

// a cleanup job (or an operator) deletes the database files under a running app: SQLite goes on
// writing into the deleted file, so a refresh there would spend the refresh token and store its
// successor where no process will ever read it again, and a process started since, on the new
// file at the path, would not see this one's lock

describe('a refresh in an app whose database file was deleted under it', () => {
	const env = useAppTestEnv();

	it('is refused before the refresh token is sent, and the new file is left alone', {
		timeout: 30_000,
	}, async () => {
		const path = env.temp.file('deleted-under-app.db');
		const sessions = new SqliteStore<Did, StoredSession>({ path, table: 'oauth_sessions' });
		const states = new SqliteStore<string, StoredState>({ path, table: 'oauth_states' });
		const lock = createSqliteLock({ path });
		env.toClose.push(sessions, states, lock);
		const { client } = await createTestClient(env.server, {
			stores: { sessions, states },
			requestLock: lock,
		});
		const did = env.server.createAccount({ handle: 'deleted.test' }).did as Did;
		await signIn(env.server, client, did);
		env.server.reset();

		for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });

		const error = await client.restore(did, { refresh: true }).then(
			() => undefined,
			(err: unknown) => err,
		);
		// the lock's refusal, for good: only a restart reaches the file now at the path
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect(error).toMatchObject({ transient: false });
		expect((error as Error).message).toMatch(/deleted or replaced/);
		// the refresh token was never sent: the grant lives on at the server for a restarted app
		expect(env.server.stats.token.refresh_token ?? 0).toBe(0);
		expect(env.server.sessions(did).at(-1)).toMatchObject({ active: true });
	});
});
