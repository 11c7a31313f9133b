import { describeLock } from '@atcute-oauth/store-conformance';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

import { createPostgresLock, type PostgresLockOptions } from './create-postgres-lock.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

let database: TestDatabase;
beforeAll(async () => {
	database = await createTestDatabase(sharedPostgresUrl(), 'lock_conformance');
});
afterAll(() => database?.drop());

describeLock('createPostgresLock', async () => {
	const prefix = `${uniqueName('lock')}:`;
	// the suite wants an acquire bound of a second or so, and quick turns between short holders
	const options = (pool: pg.Pool): PostgresLockOptions => ({
		pool,
		prefix,
		waitMs: 1_000,
		retryDelay: 5,
		maxRetryDelay: 50,
	});
	const first = testPool(database.url);
	const opened: pg.Pool[] = [first];
	return {
		lock: createPostgresLock(options(first)),
		// another pool is what another process would have
		other: async () => {
			const second = testPool(database.url);
			opened.push(second);
			return createPostgresLock(options(second));
		},
		cleanup: async () => {
			await Promise.all(opened.map((pool) => pool.end()));
		},
	};
});
