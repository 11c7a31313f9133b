// `timeout` bounds a whole operation (the migration it waits for, its statement, and both again
// after a dropped table), and a read's signal stops the wait for the migration too.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StoreUnavailableError } from './errors.ts';
import { lockKey } from './internal/lock-key.ts';
import { PostgresStore } from './postgres-store.ts';
import type { PgQueryable } from './queryable.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** the lock every migration of the package takes (see internal/migration.ts). */
const MIGRATION_LOCK = lockKey('@atcute/oauth-store-postgres:migration');

describe('PostgresStore: one deadline per operation', () => {
	let database: TestDatabase;
	let pool: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'deadline');
		pool = testPool(database.url);
	});
	afterAll(async () => {
		await pool?.end();
		await database?.drop();
	});

	it("stops a read's wait for the migration when its signal aborts, with the signal's reason", async () => {
		// another process is migrating: it holds the migration lock for now
		const other = await pool.connect();
		await other.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK]);
		try {
			const store = new PostgresStore({ pool, table: uniqueName('signal'), timeout: 5_000 });
			const signal = AbortSignal.timeout(100);
			const started = performance.now();
			const error = await store.get('did:plc:a', { signal }).catch((err: unknown) => err);
			expect(error).toBe(signal.reason);
			expect(performance.now() - started).toBeLessThan(2_000);
		} finally {
			await other.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK]);
			other.release();
		}
	});

	it('fails an operation whose migration and statement together outlast timeout', async () => {
		// every statement answers after 700 ms: the migration takes 700 of the 1000, the read
		// cannot be answered in what is left
		const slow: PgQueryable = {
			query: (async (query: never) => {
				await sleep(700);
				return pool.query(query);
			}) as never,
		};
		const store = new PostgresStore({ pool: slow, table: uniqueName('slow'), timeout: 1_000 });
		const started = performance.now();
		const error = await store.get('did:plc:a').catch((err: unknown) => err);
		const took = performance.now() - started;
		expect(error).toBeInstanceOf(StoreUnavailableError);
		expect(error).toMatchObject({ operation: 'get' });
		// at the deadline, not before (before this rule, the read was answered after 1,400 ms)
		expect(took).toBeGreaterThanOrEqual(900);
		// the migration was done meanwhile: the next read has its whole timeout for its statement
		expect(await store.get('did:plc:a')).toBeUndefined();
	});
});
