import type { Did } from '@atcute/lexicons';
import { LockUnavailableError, type StoredSession, type StoredState } from '@atcute/oauth-client';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
	createTestClient,
	signIn,
	startTestOAuthServer,
	type TestOAuthServer,
} from '../../oauth-client/src/test-utils/setup.ts';
import { createPostgresLock } from './create-postgres-lock.ts';
import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

/**
 * a primary demoted after a failover (`default_transaction_read_only = on`), or a standby the app
 * reached through a stale address, reads but does not write. the lock's advisory lock works there
 * all the same, so a refresh would run, spend the refresh token, and then fail to store the new
 * tokens: the one stored is then used up, and the account signed out once the database writes again.
 */
describe('createPostgresLock on a database that is read-only', () => {
	let database: TestDatabase;
	let admin: pg.Pool;
	let server: TestOAuthServer;
	const pools: pg.Pool[] = [];

	/** a pool whose connections are opened now, so they take the database's current defaults. */
	const newPool = (): pg.Pool => {
		const pool = testPool(database.url);
		pools.push(pool);
		return pool;
	};
	const setReadOnly = (on: boolean) =>
		admin.query(
			on
				? `ALTER DATABASE "${database.name}" SET default_transaction_read_only = on`
				: `ALTER DATABASE "${database.name}" RESET default_transaction_read_only`,
		);

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'read_only');
		// opened before the database is made read-only: it stays writable
		admin = testPool(database.url);
		await admin.query('SELECT 1');
		server = await startTestOAuthServer();
	}, 60_000);
	afterAll(async () => {
		await Promise.all(pools.map((pool) => pool.end()));
		await admin?.end();
		await server?.close();
		await database?.drop();
	});

	it('refuses the name, transient, saying why, and runs nothing', async () => {
		await setReadOnly(true);
		try {
			const lock = createPostgresLock({ pool: newPool(), prefix: uniqueName('ro'), waitMs: 0 });
			let ran = false;
			const error = await lock('did:plc:a', async () => {
				ran = true;
			}).catch((err: unknown) => err);
			expect(ran).toBe(false);
			expect(error).toBeInstanceOf(LockUnavailableError);
			expect(error).toMatchObject({ transient: true });
			expect((error as Error).message).toMatch(/read-only/);
		} finally {
			await setReadOnly(false);
		}
	});

	it('spends no refresh token while the database is read-only, and refreshes once it writes again', async () => {
		const tables = {
			sessions: uniqueName('sessions'),
			states: uniqueName('states'),
			lock: uniqueName('lock'),
		};
		const storesOn = (pool: pg.Pool) => ({
			sessions: new PostgresStore<Did, StoredSession>({ pool, table: tables.sessions }),
			states: new PostgresStore<string, StoredState>({ pool, table: tables.states }),
		});
		const writable = storesOn(admin);
		const first = await createTestClient(server, {
			stores: writable,
			requestLock: createPostgresLock({ pool: admin, prefix: tables.lock }),
		});
		const did = server.createAccount({ handle: 'readonly.test' }).did as Did;
		await signIn(server, first.client, did);
		// the access token ran out: the next restore refreshes
		server.expireAccessTokens(did);
		const stored = (await writable.sessions.get(did))!;
		await writable.sessions.set(did, {
			...stored,
			tokenSet: { ...stored.tokenSet, expires_at: Date.now() - 1000 },
		});

		await setReadOnly(true);
		const tokenRequests = () =>
			server.stats.requests.filter((request) => request.path === '/oauth/token').length;
		const before = tokenRequests();
		try {
			// another process of the app, connected after the failover: its reads work, its writes do not
			const readOnly = newPool();
			const second = await createTestClient(server, {
				key: first.key,
				stores: storesOn(readOnly),
				requestLock: createPostgresLock({ pool: newPool(), prefix: tables.lock, waitMs: 0 }),
			});
			const outcome = await second.client.restore(did, { refresh: true }).then(
				() => 'refreshed',
				(err: unknown) => err,
			);
			// the refresh token was never sent
			expect(tokenRequests()).toBe(before);
			expect(outcome).not.toBe('refreshed');
			expect(outcome).toMatchObject({ transient: true });
		} finally {
			await setReadOnly(false);
		}

		// the database writes again: the stored refresh token is still good
		const session = await first.client.restore(did, { refresh: true });
		expect(session.did).toBe(did);
	}, 20_000);
});
