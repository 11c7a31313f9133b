import { describeStore } from '@atcute-oauth/store-conformance';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

let database: TestDatabase;
let admin: pg.Pool;
// one table for the file, made before the first test as an app makes it at startup (the expiry
// tests time their first operations); emptied after each test
const table = uniqueName('conformance');
beforeAll(async () => {
	database = await createTestDatabase(sharedPostgresUrl(), 'store_conformance');
	admin = testPool(database.url);
	await new PostgresStore({ pool: admin, table }).migrate();
});
afterAll(async () => {
	await admin?.end();
	await database?.drop();
});

describeStore(
	'PostgresStore',
	async () => {
		const first = testPool(database.url);
		const opened: pg.Pool[] = [first];
		return {
			store: new PostgresStore({ pool: first, table }),
			// another pool is what another process would have
			reopen: async () => {
				const second = testPool(database.url);
				opened.push(second);
				return new PostgresStore({ pool: second, table });
			},
			cleanup: async () => {
				await Promise.all(opened.map((pool) => pool.end()));
				await admin.query(`DELETE FROM "${table}"`);
			},
		};
	},
	{ atomicTake: true, expiry: true },
);
