// an app's pool may parse types its own way (`types` on the pool, or `pg.types.setTypeParser` for
// the whole process): the store and the lock must read their answers whatever a boolean becomes.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPostgresLock } from './create-postgres-lock.ts';
import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

/** every value as the text the server sent: a boolean is 't' or 'f', and 'f' is truthy. */
const rawText: pg.CustomTypesConfig = { getTypeParser: () => (value: string) => value };

describe('the store and the lock on a pool whose type parsers give raw text', () => {
	let database: TestDatabase;
	let admin: pg.Pool;
	let raw: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'type_parsers');
		admin = testPool(database.url);
		raw = testPool(database.url, { types: rawText });
	});
	afterAll(async () => {
		await raw?.end();
		await admin?.end();
		await database?.drop();
	});

	it('takes a state that has not expired, once, and no expired one', async () => {
		const store = new PostgresStore<string, { verifier: string }>({ pool: raw, table: uniqueName('states') });
		await store.set('fresh', { verifier: 'x' }, { expiresAt: Date.now() + 60_000 });
		await store.set('kept', { verifier: 'y' });
		// expired a moment ago: still in the table (not purged), and never handed out
		const clock = { now: Date.now() };
		const later = new PostgresStore<string, { verifier: string }>({
			pool: raw,
			table: uniqueName('states'),
			now: () => clock.now,
		});
		await later.set('stale', { verifier: 'z' }, { expiresAt: clock.now + 1_000 });
		clock.now += 2_000;
		expect(await later.take('stale')).toBeUndefined();
		expect(await store.take('fresh')).toEqual({ verifier: 'x' });
		expect(await store.take('fresh')).toBeUndefined();
		expect(await store.take('kept')).toEqual({ verifier: 'y' });
	});

	it('takes and releases the lock, leaving no advisory lock on a pooled connection', async () => {
		const prefix = uniqueName('raw');
		const lock = createPostgresLock({ pool: raw, prefix, waitMs: 1_000 });
		await expect(lock('did:plc:a', async () => 'ran')).resolves.toBe('ran');
		const held = await admin.query(
			`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		);
		expect(held.rows).toEqual([]);
		// another process's lock, on a pool of its own, gets the name at once
		const other = createPostgresLock({ pool: admin, prefix, waitMs: 1_000 });
		await expect(other('did:plc:a', async () => 'again')).resolves.toBe('again');
		await expect(lock('did:plc:a', async () => 'and again')).resolves.toBe('and again');
	});
});
