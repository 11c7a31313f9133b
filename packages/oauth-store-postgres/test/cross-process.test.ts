import { fileURLToPath } from 'node:url';

import type { Did } from '@atcute/lexicons';
import { LockTimeoutError, type StoredSession, type StoredState } from '@atcute/oauth-client';
import { exportJwkKey } from '@atcute/oauth-keys';
import {
	type AppProcess,
	describeCrossProcessRefresh,
	startAppProcess,
} from '@atcute-oauth/store-conformance';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
	createTestClient,
	signIn,
	startTestOAuthServer,
	TEST_CLIENT_METADATA,
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
	// the lock pools of the accounts the shared tests signed in, ended when the file is done
	const lockPools: pg.Pool[] = [];

	beforeAll(async () => {
		// the children import the built packages, which the root vitest globalSetup builds first
		database = await createTestDatabase(sharedPostgresUrl(), 'cross_process');
		admin = testPool(database.url);
		server = await startTestOAuthServer();
	}, 180_000);
	afterAll(async () => {
		for (const pool of lockPools.splice(0)) await pool.end();
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
			metadata: TEST_CLIENT_METADATA,
		};
		return { did, client, sessions, states, childConfig, lockPool };
	};

	describeCrossProcessRefresh({
		server: () => server,
		signedInAccount: async () => {
			const { lockPool, ...account } = await signedInAccount();
			lockPools.push(lockPool);
			return { ...account, locksLeft: () => advisoryHolders(admin) };
		},
		startApp,
		sharedLock: 'postgres',
		timeout: 90_000,
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
});
