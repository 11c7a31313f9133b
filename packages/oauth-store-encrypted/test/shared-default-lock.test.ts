// clients each given their own encryptStore over one store (a factory that wraps a shared store
// per client: a web handler and a job runner in one process) hold the same sessions: with no
// requestLock they must share the default refresh lock, or both spend one refresh token and the
// server's replay detection ends the session.
import type { StoredSession } from '@atcute/oauth-client';
import { MemoryStore } from '@atcute/oauth-store-memory';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { refreshAtOnce } from '../../oauth-client/src/test-utils/refresh-at-once.ts';
import { startTestOAuthServer, type TestOAuthServer } from '../../oauth-client/src/test-utils/setup.ts';
import { SqliteStore } from '../../oauth-store-sqlite/src/index.ts';
import { tempDir } from '../../oauth-store-sqlite/src/internal/test-files.ts';
import { encryptStore } from '../src/encrypted-store.ts';
import { generateStoreKey } from '../src/generate-store-key.ts';

type Did = `did:${string}:${string}`;

const A = generateStoreKey('key-a');
const B = generateStoreKey('key-b');

describe('clients each with their own encryptStore over one session store, no requestLock', () => {
	let server: TestOAuthServer;
	let temp: ReturnType<typeof tempDir>;
	beforeAll(async () => {
		server = await startTestOAuthServer();
		temp = tempDir();
	});
	afterAll(async () => {
		await server.close();
		temp.remove();
	});

	it('over one MemoryStore: one refresh at a time, none replayed', async () => {
		const backing = new MemoryStore<Did, StoredSession>();
		await refreshAtOnce(server, () => encryptStore(backing, { keys: [A] }));
	});

	it('wrapped twice, over one SqliteStore: one refresh at a time, none replayed', async () => {
		const backing = new SqliteStore<Did, StoredSession>({ path: temp.file(), table: 'oauth_sessions' });
		try {
			await refreshAtOnce(server, () => encryptStore(encryptStore(backing, { keys: [A] }), { keys: [B] }));
		} finally {
			backing.close();
		}
	});
});
