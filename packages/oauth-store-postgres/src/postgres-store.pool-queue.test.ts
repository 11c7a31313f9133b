// a statement given up on while it waited for a pool connection must never be sent later: pg-pool's
// own query() queues it and sends it once a connection frees up, after its caller was told it failed
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StoreUnavailableError } from './errors.ts';
import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';
import { tightStore } from './test-utils/tight-store.ts';

describe('PostgresStore on a full pool', () => {
	let database: TestDatabase;
	let pool: pg.Pool;
	let other: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'pool_queue');
		// one connection: holding it makes every call of the store wait for it
		pool = testPool(database.url, { max: 1 });
		other = testPool(database.url);
	});
	afterAll(async () => {
		await pool?.end();
		await other?.end();
		await database?.drop();
	});

	it('never writes what it reported as failed once a connection frees up', async () => {
		const table = uniqueName('sessions');
		const store = await tightStore<string, { tokens: string }>({ pool, table, timeout: 300 });
		const elsewhere = new PostgresStore<string, { tokens: string }>({ pool: other, table });
		await store.set('did:plc:a', { tokens: 'T0' });

		const held = await pool.connect();
		let released = false;
		try {
			const failed = await store.set('did:plc:a', { tokens: 'T1 (stale)' }).catch((err: unknown) => err);
			expect(failed).toBeInstanceOf(StoreUnavailableError);
			// meanwhile another process writes newer tokens
			await elsewhere.set('did:plc:a', { tokens: 'T2 (newest)' });
			held.release();
			released = true;
			// the pool hands its connection out in order: a stale write still queued would go first
			expect(await store.get('did:plc:a')).toEqual({ tokens: 'T2 (newest)' });
			expect(await elsewhere.get('did:plc:a')).toEqual({ tokens: 'T2 (newest)' });
		} finally {
			if (!released) held.release();
		}
	});

	it('leaves a state in place when the take that timed out waiting is tried again', async () => {
		const table = uniqueName('states');
		const store = await tightStore<string, { verifier: string }>({ pool, table, timeout: 300 });
		await store.set('state-1', { verifier: 'v' }, { expiresAt: Date.now() + 60_000 });

		const held = await pool.connect();
		let released = false;
		try {
			expect(await store.take('state-1').catch((err: unknown) => err)).toBeInstanceOf(StoreUnavailableError);
			held.release();
			released = true;
			expect(await store.take('state-1')).toEqual({ verifier: 'v' });
		} finally {
			if (!released) held.release();
		}
	});

	it('gives the connection back after statements that succeed, fail at the server or time out', async () => {
		const table = uniqueName('reuse');
		const store = await tightStore<string, unknown>({ pool, table, timeout: 300 });
		for (let i = 0; i < 5; i++) await store.set(`k${i}`, { i });
		expect(await store.get('k4')).toEqual({ i: 4 });
		// a table that is not ours: PostgreSQL itself raises the refusal, and the connection stays good
		const foreign = uniqueName('foreign');
		await other.query(`CREATE TABLE "${foreign}" (id integer)`);
		const refused = new PostgresStore<string, unknown>({ pool, table: foreign, timeout: 300 });
		expect(await refused.get('a').catch((err: unknown) => err)).toMatchObject({ code: 'not_ours' });
		// and one given up on: its connection is closed, and a new one serves the next call
		const held = await pool.connect();
		expect(await store.get('k1').catch((err: unknown) => err)).toBeInstanceOf(StoreUnavailableError);
		held.release();
		expect(await store.get('k0')).toEqual({ i: 0 });
		expect(pool.totalCount).toBe(1);
		expect(pool.idleCount).toBe(1);
	});
});
