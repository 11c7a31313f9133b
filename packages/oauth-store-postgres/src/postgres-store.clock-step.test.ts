import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

describe('PostgresStore when the clock of one process steps forward', () => {
	let database: TestDatabase;
	let pool: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'clock_step');
		pool = testPool(database.url);
	});
	afterAll(async () => {
		await pool?.end();
		await database?.drop();
	});

	it('does not purge the live entries other processes wrote (a sign-in under way) on its clock alone', async () => {
		const table = uniqueName('stepped');
		// two processes on one table: one on the right time, one whose clock stepped two hours ahead
		const onTime = new PostgresStore({ pool, table });
		const stepped = new PostgresStore({ pool, table, now: () => Date.now() + 2 * 60 * 60 * 1000 });
		await onTime.set('state-1', { verifier: 'v' }, { expiresAt: Date.now() + 10 * 60 * 1000 });

		await stepped.purge();

		expect(await onTime.get('state-1')).toEqual({ verifier: 'v' });
	});

	it('still purges what has run out on both its clock and the database clock', async () => {
		const table = uniqueName('ran_out');
		const store = new PostgresStore({ pool, table });
		await store.set('state-1', 1, { expiresAt: Date.now() - 1_000 });
		await store.set('state-2', 2, { expiresAt: Date.now() + 10 * 60 * 1000 });

		expect(await store.purge()).toBe(1);
		expect(await store.get('state-2')).toBe(2);
	});
});
