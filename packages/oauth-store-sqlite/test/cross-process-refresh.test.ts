import { fileURLToPath } from 'node:url';

import type { Did } from '@atcute/lexicons';
import type { StoredSession, StoredState } from '@atcute/oauth-client';
import { exportJwkKey } from '@atcute/oauth-keys';
import { describeCrossProcessRefresh, startAppProcess } from '@atcute-oauth/store-conformance';
import { beforeEach, describe } from 'vitest';

import { createTestClient, signIn, TEST_CLIENT_METADATA } from '../../oauth-client/src/test-utils/setup.ts';
import { createSqliteLock, type SqliteLock, SqliteStore } from '../src/index.ts';
import { openRawDatabase } from '../src/internal/test-raw-database.ts';
import { useAppTestEnv } from './support/use-app-test-env.ts';

// every process runs its own OAuthClient on one SQLite file (sessions and states tables) and,
// but for the negative control, the SQLite lock on that same file: the refresh of a stale session
// must reach the authorization server once, whatever the number of processes and calls.

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/oauth-child.mjs', import.meta.url));

const SESSIONS_TABLE = 'oauth_sessions';
const STATES_TABLE = 'oauth_states';

describe('token refresh across processes sharing a SQLite file', () => {
	let accounts = 0;

	const env = useAppTestEnv();
	beforeEach(() => env.server?.reset());

	/** a new account signed in through the whole flow by this process, its session in a new SQLite file. */
	const signedInAccount = async (options: { leaseMs?: number } = {}) => {
		const path = env.temp.file(`refresh-${++accounts}.db`);
		const sessions = new SqliteStore<Did, StoredSession>({ path, table: SESSIONS_TABLE });
		const states = new SqliteStore<string, StoredState>({ path, table: STATES_TABLE });
		const lock: SqliteLock = createSqliteLock({ path, lease: options.leaseMs });
		env.toClose.push(sessions, states, lock);
		const { client, key } = await createTestClient(env.server, {
			stores: { sessions, states },
			requestLock: lock,
		});
		const did = env.server.createAccount({ handle: `sqlite${accounts}.test` }).did as Did;
		await signIn(env.server, client, did);

		/** every process configured like this one, on the same file. */
		const childConfig = {
			path,
			sessionsTable: SESSIONS_TABLE,
			statesTable: STATES_TABLE,
			leaseMs: options.leaseMs,
			did,
			plcUrl: env.server.plcUrl,
			pdsUrl: env.server.pdsUrl,
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
		server: () => env.server,
		signedInAccount,
		startApp: (config) => startAppProcess(CHILD, config, { cwd: PACKAGE_DIR }),
		sharedLock: 'sqlite',
	});
});
