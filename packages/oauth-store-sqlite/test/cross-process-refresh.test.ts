import { fileURLToPath } from 'node:url';

import type { Did } from '@atcute/lexicons';
import type { StoredSession, StoredState } from '@atcute/oauth-client';
import { exportJwkKey } from '@atcute/oauth-keys';
import { describeCrossProcessRefresh, startAppProcess } from '@atcute-oauth/store-conformance';
import { afterAll, beforeAll, beforeEach, describe } from 'vitest';

import {
	createTestClient,
	signIn,
	startTestOAuthServer,
	TEST_CLIENT_METADATA,
	type TestOAuthServer,
} from '../../oauth-client/src/test-utils/setup.ts';
import { createSqliteLock, type SqliteLock, SqliteStore } from '../src/index.ts';
import { tempDir } from '../src/internal/test-files.ts';
import { openRawDatabase } from '../src/internal/test-raw-database.ts';

// every process runs its own OAuthClient on one SQLite file (sessions and states tables) and,
// but for the negative control, the SQLite lock on that same file: the refresh of a stale session
// must reach the authorization server once, whatever the number of processes and calls.

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/oauth-child.mjs', import.meta.url));

/** the metadata the client test setup registers; every app process must present the same. */
const SESSIONS_TABLE = 'oauth_sessions';
const STATES_TABLE = 'oauth_states';

describe('token refresh across processes sharing a SQLite file', () => {
	let temp: ReturnType<typeof tempDir>;
	let server: TestOAuthServer;
	let accounts = 0;
	// every store, lock and raw connection this process opened, closed before the files go
	const toClose: Array<{ close(): unknown }> = [];

	beforeAll(async () => {
		// the children run the built packages, which the root vitest globalSetup builds before any test
		temp = tempDir();
		server = await startTestOAuthServer();
	}, 180_000);
	afterAll(async () => {
		for (const handle of toClose.splice(0)) handle.close();
		await server?.close();
		temp?.remove();
	});
	beforeEach(() => server?.reset());

	/** a new account signed in through the whole flow by this process, its session in a new SQLite file. */
	const signedInAccount = async (options: { leaseMs?: number } = {}) => {
		const path = temp.file(`refresh-${++accounts}.db`);
		const sessions = new SqliteStore<Did, StoredSession>({ path, table: SESSIONS_TABLE });
		const states = new SqliteStore<string, StoredState>({ path, table: STATES_TABLE });
		const lock: SqliteLock = createSqliteLock({ path, lease: options.leaseMs });
		toClose.push(sessions, states, lock);
		const { client, key } = await createTestClient(server, {
			stores: { sessions, states },
			requestLock: lock,
		});
		const did = server.createAccount({ handle: `sqlite${accounts}.test` }).did as Did;
		await signIn(server, client, did);

		/** every process configured like this one, on the same file. */
		const childConfig = {
			path,
			sessionsTable: SESSIONS_TABLE,
			statesTable: STATES_TABLE,
			leaseMs: options.leaseMs,
			did,
			plcUrl: server.plcUrl,
			pdsUrl: server.pdsUrl,
			// the client's private key, as an app would read it from its environment
			clientJwk: await exportJwkKey(key),
			metadata: TEST_CLIENT_METADATA,
		};
		return { did, client, sessions, states, childConfig, locksLeft: async () => leasesIn(path) };
	};

	/** the leases left in the lock table of the file. */
	const leasesIn = (path: string): unknown[] => {
		const database = openRawDatabase(path, { readonly: true });
		try {
			return database.prepare('SELECT name FROM oauth_locks').all();
		} finally {
			database.close();
		}
	};

	describeCrossProcessRefresh({
		server: () => server,
		signedInAccount,
		startApp: (config) => startAppProcess(CHILD, config, { cwd: PACKAGE_DIR }),
		sharedLock: 'sqlite',
	});
});
