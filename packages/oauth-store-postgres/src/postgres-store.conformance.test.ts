import { describeStore } from '@atcute-oauth/store-conformance';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

let database: TestDatabase;
let admin: pg.Pool;
beforeAll(async () => {
	database = await createTestDatabase(sharedPostgresUrl(), 'store_conformance');
	admin = testPool(database.url);
});
afterAll(async () => {
	await admin?.end();
	await database?.drop();
});

describeStore(
	'PostgresStore',
	async () => {
		// a table per test, so each starts empty
		const table = uniqueName('t');
		const first = testPool(database.url);
		const opened: pg.Pool[] = [first];
		const store = new PostgresStore({ pool: first, table });
		// the table is made before the test, as an app would at startup: the expiry tests time
		// their first operations, and on a busy machine making a table can take a while
		await store.migrate();
		return {
			store,
			// another pool is what another process would have
			reopen: async () => {
				const second = testPool(database.url);
				opened.push(second);
				return new PostgresStore({ pool: second, table });
			},
			cleanup: async () => {
				await Promise.all(opened.map((pool) => pool.end()));
				await admin.query(`DROP TABLE IF EXISTS "${table}"`);
			},
		};
	},
	{ atomicTake: true, expiry: true },
);
