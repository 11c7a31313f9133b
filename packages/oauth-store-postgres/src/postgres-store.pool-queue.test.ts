// a statement given up on while it waited for a pool connection must never be sent later: pg-pool's
// own query() queues it and sends it once a connection frees up, after its caller was told it failed
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPostgresLock } from './create-postgres-lock.ts';
import { StoreUnavailableError } from './errors.ts';
import { abandonedConnectsOf, MAX_ABANDONED_CONNECTS } from './internal/pool-connect.ts';
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

	it('leaves a bounded number of requests in the pool while no connection comes, and fails the rest at once', async () => {
		const table = uniqueName('backed_up');
		const store = await tightStore<string, unknown>({ pool, table, timeout: 300 });
		const lock = createPostgresLock({ pool, prefix: uniqueName('lock'), timeout: 300 });
		await store.set('k', { v: 1 });
		const fast = await tightStore<string, unknown>({ pool, table, timeout: 20 });
		// PostgreSQL silent, as the pool sees it: its one connection never comes back
		const held = await pool.connect();
		let released = false;
		try {
			// pg-pool cannot withdraw a request: each given up on waits for a connection
			const failed = await Promise.all(
				Array.from({ length: MAX_ABANDONED_CONNECTS }, () => fast.get('k').catch((err: unknown) => err)),
			);
			expect(failed.every((err) => err instanceof StoreUnavailableError)).toBe(true);
			expect(abandonedConnectsOf(pool)).toBe(MAX_ABANDONED_CONNECTS);
			const waiting = pool.waitingCount;
			expect(waiting).toBeGreaterThanOrEqual(MAX_ABANDONED_CONNECTS);

			// from here on a call adds no request: it fails at once, saying why and what to set
			const refused = await fast.get('k').catch((err: unknown) => err);
			expect(refused).toBeInstanceOf(StoreUnavailableError);
			expect(refused).toMatchObject({
				transient: true,
				message: expect.stringMatching(/given up on, still wait.*connectionTimeoutMillis/),
			});
			const lockRefused = await lock('did:plc:a', async () => 'ran').catch((err: unknown) => err);
			expect(lockRefused).toMatchObject({
				transient: true,
				message: expect.stringMatching(/given up on, still wait/),
			});
			expect(pool.waitingCount).toBe(waiting);

			// the connection comes back: every request given up on gets it in turn and gives it back
			held.release();
			released = true;
			await expect.poll(() => abandonedConnectsOf(pool), { timeout: 10_000 }).toBe(0);
			expect(await store.get('k')).toEqual({ v: 1 });
			await expect(lock('did:plc:a', async () => 'ran')).resolves.toBe('ran');
		} finally {
			if (!released) held.release();
		}
	});
});
