import { fileURLToPath } from 'node:url';

import type { Did } from '@atcute/lexicons';
import { LockTimeoutError, type StoredSession, type StoredState } from '@atcute/oauth-client';
import { exportJwkKey } from '@atcute/oauth-keys';
import { type AppProcess, startAppProcess } from '@atcute-oauth/store-conformance';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
	CLIENT_ID,
	createTestClient,
	REDIRECT_URI,
	signIn,
	startTestOAuthServer,
	type TestOAuthServer,
} from '../../oauth-client/src/test-utils/setup.ts';
import { createPostgresLock, PostgresStore } from '../src/index.ts';
import {
	createTestDatabase,
	type TestDatabase,
	testPool,
	uniqueName,
} from '../src/test-utils/postgres-server.ts';
import { sharedPostgresUrl } from '../src/test-utils/shared-server.ts';

// every process runs its own OAuthClient on one PostgreSQL database (sessions and states tables)
// and, but for the negative control, the PostgreSQL lock: the refresh of a stale session must
// reach the authorization server once, whatever the number of processes and calls.

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/oauth-child.mjs', import.meta.url));

/** the metadata the client test setup registers; every app process must present the same. */
const METADATA = {
	client_id: CLIENT_ID,
	redirect_uris: [REDIRECT_URI, 'https://app.example.com/oauth/other'],
	scope: ['atproto', 'transition:generic'],
};

const PROCESSES = 4;
const CALLS_PER_PROCESS = 25;

const startApp = (config: Record<string, unknown>): AppProcess =>
	startAppProcess(CHILD, config, { cwd: PACKAGE_DIR });

/** the backends holding an advisory lock in the test database. */
const advisoryHolders = async (admin: pg.Pool): Promise<number[]> => {
	const result = await admin.query(
		`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
	);
	return result.rows.map((row) => row.pid as number);
};

describe('token refresh across processes sharing PostgreSQL', () => {
	let database: TestDatabase;
	let admin: pg.Pool;
	let server: TestOAuthServer;
	let accounts = 0;

	beforeAll(async () => {
		// the children import the built packages, which the root vitest globalSetup builds first
		database = await createTestDatabase(sharedPostgresUrl(), 'cross_process');
		admin = testPool(database.url);
		server = await startTestOAuthServer();
	}, 180_000);
	afterAll(async () => {
		await admin?.end();
		await server?.close();
		await database?.drop();
	});
	beforeEach(() => server.reset());

	/** a new account signed in through the whole flow by this process, its session in new tables. */
	const signedInAccount = async () => {
		const names = {
			sessionsTable: uniqueName('sessions'),
			statesTable: uniqueName('states'),
			lockPrefix: `${uniqueName('lock')}:`,
		};
		const sessions = new PostgresStore<Did, StoredSession>({ pool: admin, table: names.sessionsTable });
		const states = new PostgresStore<string, StoredState>({ pool: admin, table: names.statesTable });
		const lockPool = testPool(database.url);
		const { client, key } = await createTestClient(server, {
			stores: { sessions, states },
			requestLock: createPostgresLock({ pool: lockPool, prefix: names.lockPrefix }),
		});
		const did = server.createAccount({ handle: `pg${++accounts}.test` }).did as Did;
		await signIn(server, client, did);

		/** every process configured like this one, on the same database. */
		const childConfig = {
			...names,
			databaseUrl: database.url,
			did,
			plcUrl: server.plcUrl,
			pdsUrl: server.pdsUrl,
			// the client's private key, as an app would read it from its environment
			clientJwk: await exportJwkKey(key),
			metadata: METADATA,
		};
		return { did, client, sessions, childConfig, lockPool };
	};

	/** ends the access token at the server and marks it expired in the stored session. */
	const makeStale = async (sessions: PostgresStore<Did, StoredSession>, did: Did): Promise<void> => {
		server.expireAccessTokens(did);
		const stored = (await sessions.get(did))!;
		await sessions.set(did, { ...stored, tokenSet: { ...stored.tokenSet, expires_at: Date.now() - 1000 } });
	};

	/** starts the app processes, lets them all go at once, and gathers their results. */
	const runApps = async (config: Record<string, unknown>) => {
		const apps = Array.from({ length: PROCESSES }, () =>
			startApp({ ...config, mode: 'calls', calls: CALLS_PER_PROCESS }),
		);
		try {
			// every process is connected and has read the session before any starts
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

	it(`refreshes once for ${PROCESSES} processes × ${CALLS_PER_PROCESS} concurrent calls on a stale session, all succeeding (R1)`, {
		timeout: 90_000,
	}, async () => {
		const { did, sessions, childConfig, lockPool } = await signedInAccount();
		await lockPool.end();
		const before = (await sessions.get(did))!.tokenSet.refresh_token;
		await makeStale(sessions, did);
		server.reset();
		// a slow token endpoint keeps the refresh open while the other processes wait for the lock
		server.behaviour.tokenDelayMs = 300;

		const { ok, failures } = await runApps({ ...childConfig, lock: 'postgres' });

		expect(failures).toEqual([]);
		expect(ok).toBe(PROCESSES * CALLS_PER_PROCESS);
		// the refresh token reached the server exactly once
		expect(server.stats.refreshAttempts).toBe(1);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(server.stats.refreshByDid.get(did)).toBe(1);
		expect(server.stats.resource).toBe(PROCESSES * CALLS_PER_PROCESS);
		// the table holds the newest refresh token, the one the server will accept next
		const current = server.sessions(did).at(-1)!;
		expect(current.active).toBe(true);
		const stored = (await sessions.get(did))!.tokenSet.refresh_token;
		expect(stored).not.toBe(before);
		expect(stored).toBe(current.refreshToken);
		// every lock was released
		expect(await advisoryHolders(admin)).toEqual([]);
		server.assertNoRejections();
	});

	it('spends the refresh token more than once without a shared lock (negative control: the test can fail)', {
		timeout: 90_000,
	}, async () => {
		const { did, sessions, childConfig, lockPool } = await signedInAccount();
		await lockPool.end();
		await makeStale(sessions, did);
		server.reset();
		server.behaviour.tokenDelayMs = 300;

		// each process with a lock of its own, as with the default in-memory lock
		const { ok, failures } = await runApps({ ...childConfig, lock: 'memory' });

		expect(server.stats.refreshAttempts).toBeGreaterThan(1);
		expect(server.stats.token.refresh_token > 1 || failures.length > 0).toBe(true);
		expect(ok + failures.length).toBe(PROCESSES * CALLS_PER_PROCESS);
	});

	it('frees the lock of a holder process the moment it is killed (the server ends its connection)', {
		timeout: 60_000,
	}, async () => {
		const { childConfig, lockPool } = await signedInAccount();
		const holder = startApp({ ...childConfig, lock: 'postgres', mode: 'hold-lock', lockName: 'held' });
		try {
			await holder.next('ready');
			holder.go();
			await holder.next('holding');
			expect(await advisoryHolders(admin)).toHaveLength(1);

			const lock = createPostgresLock({ pool: lockPool, prefix: childConfig.lockPrefix, waitMs: 0 });
			await expect(lock('held', async () => 'stolen')).rejects.toBeInstanceOf(LockTimeoutError);

			await holder.kill();
			// no lease to wait out: the server frees it when the dead process's connection closes
			await expect.poll(() => advisoryHolders(admin), { timeout: 5_000, interval: 20 }).toEqual([]);
			await expect(lock('held', async () => 'mine')).resolves.toBe('mine');
		} finally {
			await holder.kill();
			await lockPool.end();
		}
	});

	it('refreshes normally after the lock holder was killed mid-refresh', { timeout: 60_000 }, async () => {
		const { did, client, sessions, childConfig, lockPool } = await signedInAccount();
		const before = (await sessions.get(did))!.tokenSet.refresh_token;
		server.reset();
		// the holder stalls on discovery, inside the lock and before the token request: killed
		// there, it has not spent the refresh token
		server.behaviour.metadataDelayMs = 10_000;
		const holder = startApp({ ...childConfig, lock: 'postgres', mode: 'refresh' });
		try {
			await holder.next('ready');
			holder.go();
			await expect.poll(() => advisoryHolders(admin), { timeout: 10_000, interval: 20 }).toHaveLength(1);
			await holder.kill();
		} finally {
			await holder.kill();
		}
		server.behaviour.metadataDelayMs = undefined;

		// the dead holder's lock is gone with its connection: this process refreshes at once
		const session = await client.restore(did, { refresh: true });
		expect(server.stats.refreshAttempts).toBe(1);
		expect(server.stats.token.refresh_token).toBe(1);
		const stored = (await sessions.get(did))!.tokenSet.refresh_token;
		expect(stored).not.toBe(before);
		expect(stored).toBe(server.sessions(did).at(-1)!.refreshToken);
		const response = await session.handle('/xrpc/com.atproto.server.getSession');
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ did });
		expect(await advisoryHolders(admin)).toEqual([]);
		await lockPool.end();
	});
});
