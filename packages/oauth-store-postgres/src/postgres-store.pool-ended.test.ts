// pg-pool never serves a connection request still waiting when `end()` is called (it neither
// gives it a connection nor fails it): a store call or lock acquisition waiting on a full pool
// must still fail at once as the README says of an ended pool (`closed`, not transient), not
// wait out its whole timeout and keep a shutting-down process alive meanwhile
import { fileURLToPath } from 'node:url';
import { LockUnavailableError } from '@atcute/oauth-client';
import { exitAfterSigterm } from '@atcute-oauth/internal/test-utils/exit-after-sigterm';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPostgresLock } from './create-postgres-lock.ts';
import { PostgresStoreError } from './errors.ts';
import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

const CHILD = fileURLToPath(new URL('./test-utils/shutdown-with-waiting-call-child.mjs', import.meta.url));

describe('PostgresStore and the lock waiting on a pool that is ended', () => {
	let database: TestDatabase;
	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'pool_ended');
	});
	afterAll(async () => {
		await database?.drop();
	});

	/** a pool of one connection, and that connection, checked out by the caller. */
	const fullPool = async (): Promise<{ pool: pg.Pool; held: pg.PoolClient }> => {
		const pool = testPool(database.url, { max: 1 });
		const held = await pool.connect();
		// a checked-out connection has no listener of the pool's (the database is dropped at the end)
		held.on('error', () => {});
		return { pool, held };
	};

	it('fails a store call waiting for a connection at once, closed, when the pool is ended', async () => {
		const table = uniqueName('sessions');
		const setup = testPool(database.url);
		await new PostgresStore({ pool: setup, table }).migrate();
		await setup.end();
		const { pool, held } = await fullPool();
		// a timeout no test waits for: only a failure found at once passes
		const store = new PostgresStore({ pool, table, timeout: 60_000 });
		const pending = store.get('did:plc:a').catch((err: unknown) => err);
		const ended = pool.end();
		const outcome = await pending;
		held.release();
		await ended;
		expect(outcome).toBeInstanceOf(PostgresStoreError);
		expect(outcome).toMatchObject({ code: 'closed', transient: false });
	}, 20_000);

	it('fails a lock acquisition waiting for a connection at once, not transient, when the pool is ended', async () => {
		const { pool, held } = await fullPool();
		const lock = createPostgresLock({ pool, timeout: 60_000 });
		let ran = false;
		const pending = lock('refresh:did:plc:a', async () => {
			ran = true;
		}).catch((err: unknown) => err);
		const ended = pool.end();
		const outcome = await pending;
		held.release();
		await ended;
		expect(outcome).toBeInstanceOf(LockUnavailableError);
		expect(outcome).toMatchObject({ transient: false });
		expect(ran).toBe(false);
	}, 20_000);

	it('lets an app that ends its pool on SIGTERM while a call waits for a connection exit by itself', async () => {
		// the store's timeout (60 s) is far past the time the process has to exit (10 s)
		const { result, stdout, stderr, lines: read } = await exitAfterSigterm(CHILD, [database.url, '60000']);
		expect(result, `stdout: ${stdout}\nstderr: ${stderr}`).toBe(0);
		const lines = read();
		expect(lines).toContainEqual({
			type: 'pending',
			outcome: { name: 'PostgresStoreError', code: 'closed', transient: false },
		});
	}, 30_000);
});
