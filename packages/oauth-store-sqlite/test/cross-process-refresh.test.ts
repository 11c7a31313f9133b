import { fileURLToPath } from 'node:url';

import type { Did } from '@atcute/lexicons';
import type { StoredSession, StoredState } from '@atcute/oauth-client';
import { exportJwkKey } from '@atcute/oauth-keys';
import { type AppProcess, startAppProcess } from '@atcute-oauth/store-conformance';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
	CLIENT_ID,
	createTestClient,
	REDIRECT_URI,
	signIn,
	startTestOAuthServer,
	type TestOAuthServer,
} from '../../oauth-client/src/test-utils/setup.ts';
import { createSqliteLock, type SqliteLock, SqliteStore } from '../src/index.ts';
import { tempDir } from '../src/internal/test-files.ts';

// every process runs its own OAuthClient on one SQLite file (sessions and states tables) and,
// but for the negative control, the SQLite lock on that same file: the refresh of a stale session
// must reach the authorization server once, whatever the number of processes and calls.

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/oauth-child.mjs', import.meta.url));

/** the metadata the client test setup registers; every app process must present the same. */
const METADATA = {
	client_id: CLIENT_ID,
	redirect_uris: [REDIRECT_URI, 'https://app.example.com/oauth/other'],
	scope: ['atproto', 'transition:generic'],
};
const SESSIONS_TABLE = 'oauth_sessions';
const STATES_TABLE = 'oauth_states';

const PROCESSES = 4;
const CALLS_PER_PROCESS = 25;

const startApp = (config: Record<string, unknown>): AppProcess =>
	startAppProcess(CHILD, config, { cwd: PACKAGE_DIR });

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
	const signedInAccount = async () => {
		const path = temp.file(`refresh-${++accounts}.db`);
		const sessions = new SqliteStore<Did, StoredSession>({ path, table: SESSIONS_TABLE });
		const states = new SqliteStore<string, StoredState>({ path, table: STATES_TABLE });
		const lock: SqliteLock = createSqliteLock({ path });
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
			did,
			plcUrl: server.plcUrl,
			pdsUrl: server.pdsUrl,
			// the client's private key, as an app would read it from its environment
			clientJwk: await exportJwkKey(key),
			metadata: METADATA,
		};
		return { did, path, sessions, childConfig };
	};

	/** ends the access token at the server and marks it expired in the stored session. */
	const makeStale = async (sessions: SqliteStore<Did, StoredSession>, did: Did): Promise<void> => {
		server.expireAccessTokens(did);
		const stored = (await sessions.get(did))!;
		await sessions.set(did, { ...stored, tokenSet: { ...stored.tokenSet, expires_at: Date.now() - 1000 } });
	};

	/** starts the app processes, lets them all go at once, and gathers their results. */
	const runApps = async (config: Record<string, unknown>) => {
		const apps = Array.from({ length: PROCESSES }, () => startApp({ ...config, calls: CALLS_PER_PROCESS }));
		try {
			// every process has the file open and the session read before any starts, so they really run together
			await Promise.all(apps.map((app) => app.next('ready')));
			for (const app of apps) app.go();
			const results = await Promise.all(apps.map((app) => app.next('done')));
			await Promise.all(apps.map((app) => app.exited));
			return {
				ok: results.reduce((sum, result) => sum + result.ok, 0),
				failures: results.flatMap((result) => result.failures),
			};
		} finally {
			await Promise.all(apps.map((app) => app.kill()));
		}
	};

	/** the leases left in the lock table of the file. */
	const leasesIn = (path: string): unknown[] => {
		const database = new Database(path, { readonly: true });
		try {
			return database.prepare('SELECT name FROM oauth_locks').all();
		} finally {
			database.close();
		}
	};

	it(`refreshes once for ${PROCESSES} processes × ${CALLS_PER_PROCESS} concurrent calls on a stale session, all succeeding`, {
		timeout: 60_000,
	}, async () => {
		const { did, path, sessions, childConfig } = await signedInAccount();
		const before = (await sessions.get(did))!.tokenSet.refresh_token;
		await makeStale(sessions, did);
		server.reset();
		// a slow token endpoint keeps the refresh open while the other processes wait for the lock
		server.behaviour.tokenDelayMs = 300;

		const { ok, failures } = await runApps({ ...childConfig, lock: 'sqlite' });

		expect(failures).toEqual([]);
		expect(ok).toBe(PROCESSES * CALLS_PER_PROCESS);
		// the refresh token reached the server exactly once
		expect(server.stats.refreshAttempts).toBe(1);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(server.stats.refreshByDid.get(did)).toBe(1);
		expect(server.stats.resource).toBe(PROCESSES * CALLS_PER_PROCESS);
		// the file holds the newest refresh token, the one the server will accept next
		const current = server.sessions(did).at(-1)!;
		expect(current.active).toBe(true);
		const stored = (await sessions.get(did))!.tokenSet.refresh_token;
		expect(stored).not.toBe(before);
		expect(stored).toBe(current.refreshToken);
		// every lease was released
		expect(leasesIn(path)).toEqual([]);
		server.assertNoRejections();
	});

	it('spends the refresh token more than once without a shared lock (negative control: the test can fail)', {
		timeout: 60_000,
	}, async () => {
		const { did, sessions, childConfig } = await signedInAccount();
		await makeStale(sessions, did);
		server.reset();
		server.behaviour.tokenDelayMs = 300;

		// each process with a lock of its own, as with the default in-memory lock
		const { ok, failures } = await runApps({ ...childConfig, lock: 'memory' });

		expect(server.stats.refreshAttempts).toBeGreaterThan(1);
		expect(server.stats.token.refresh_token > 1 || failures.length > 0).toBe(true);
		expect(ok + failures.length).toBe(PROCESSES * CALLS_PER_PROCESS);
	});
});
