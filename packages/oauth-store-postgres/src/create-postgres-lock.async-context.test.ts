import { AsyncLocalStorage } from 'node:async_hooks';

import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPostgresLock } from './create-postgres-lock.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

/** what an app keeps per request: its id (a request logger, a trace, reads it). */
const als = new AsyncLocalStorage<{ requestId: string }>();

describe("createPostgresLock and the holder's async context", () => {
	let database: TestDatabase;
	let admin: pg.Pool;
	let lockPool: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'lock_context');
		admin = testPool(database.url);
		// one connection: the second request's hold reuses the one the first request opened
		lockPool = testPool(database.url, { max: 1 });
	});
	afterAll(async () => {
		await lockPool?.end();
		await admin?.end();
		await database?.drop();
	});

	it('reports a connection lost while held in the context of the request holding the lock, not of the one that opened the connection', async () => {
		const reportedIn: Array<string | undefined> = [];
		const lock = createPostgresLock({
			pool: lockPool,
			prefix: uniqueName('context'),
			onLeaseLost: () => reportedIn.push(als.getStore()?.requestId),
		});
		// request A opens the pool's connection (its socket's events run in A's context from then on)
		await als.run({ requestId: 'A' }, () => lock('did:plc:a', async () => {}));
		await als.run({ requestId: 'B' }, () =>
			lock('did:plc:b', async () => {
				const held = await admin.query(
					`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
				);
				await admin.query('SELECT pg_terminate_backend($1)', [held.rows[0].pid]);
				await expect.poll(() => reportedIn.length).toBe(1);
			}),
		);
		// B's loss, in B's log and trace: A's request ended long before
		expect(reportedIn).toEqual(['B']);
	});
});
