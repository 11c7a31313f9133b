import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresStoreError } from './errors.ts';
import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

/** a table name of exactly `length` characters, unique to this run. */
const nameOfLength = (length: number, fill = 'x'): string => {
	const base = uniqueName('n');
	return base + fill.repeat(length - base.length);
};

describe('PostgresStore table names up to 63 characters', () => {
	let database: TestDatabase;
	let pool: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'names');
		pool = testPool(database.url);
	});
	afterAll(async () => {
		await pool?.end();
		await database?.drop();
	});

	/** the indexes of `table` other than its primary key: name and definition. */
	const indexesOf = async (table: string) =>
		(
			await pool.query(
				`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1
				 AND indexname NOT LIKE '%pkey' ORDER BY indexname`,
				[table],
			)
		).rows as { indexname: string; indexdef: string }[];

	it('keeps the name "<table>_expires_at_idx" where it fits (tables of up to 48 characters)', async () => {
		const table = nameOfLength(48);
		await new PostgresStore({ pool, table }).set('a', 1, { expiresAt: Date.now() + 60_000 });
		expect((await indexesOf(table)).map((each) => each.indexname)).toEqual([`${table}_expires_at_idx`]);
	});

	it.each([49, 62, 63])(
		'makes and uses a table of %i characters, with its partial expiry index',
		async (length) => {
			const table = nameOfLength(length);
			const store = new PostgresStore({ pool, table });
			await store.set('a', { n: 1 }, { expiresAt: Date.now() + 60_000 });
			expect(await store.take('a')).toEqual({ n: 1 });
			const indexes = await indexesOf(table);
			expect(indexes).toHaveLength(1);
			expect(indexes[0]!.indexname).not.toBe(table);
			// never cut by the server: a name over 63 bytes would be
			expect(indexes[0]!.indexname.length).toBeLessThanOrEqual(63);
			expect(indexes[0]!.indexname).toMatch(/_expires_at_idx$/);
			expect(indexes[0]!.indexdef).toMatch(/\(expires_at\) WHERE \(expires_at IS NOT NULL\)$/);
		},
	);

	it('keeps apart two 63-character tables that differ only in their last characters', async () => {
		const first = nameOfLength(63, 'a');
		const second = `${first.slice(0, -1)}b`;
		const stores = [first, second].map((table) => new PostgresStore({ pool, table }));
		await Promise.all(stores.map((store, i) => store.set('k', i, { expiresAt: Date.now() + 60_000 })));
		expect(await Promise.all(stores.map((store) => store.get('k')))).toEqual([0, 1]);
		const [a, b] = [(await indexesOf(first))[0]!.indexname, (await indexesOf(second))[0]!.indexname];
		expect(a).not.toBe(b);
	});
	describe('a table whose index name is taken', () => {
		/** what `promise` rejected with. */
		const failure = (promise: Promise<unknown>): Promise<unknown> =>
			promise.then(
				() => {
					throw new Error('expected a rejection');
				},
				(err: unknown) => err,
			);
		const found = async (name: string): Promise<boolean> =>
			(await pool.query('SELECT to_regclass($1) IS NOT NULL AS found', [`"${name}"`])).rows[0].found;

		it('is not_ours, naming it, when another store has a table of that name (made first), which is left alone', async () => {
			const table = uniqueName('clash');
			const first = new PostgresStore({ pool, table: `${table}_expires_at_idx` });
			await first.set('k', 'the other store', { expiresAt: Date.now() + 60_000 });

			const error = await failure(new PostgresStore({ pool, table }).set('k', 1));
			expect(error).toBeInstanceOf(PostgresStoreError);
			expect(error).toMatchObject({ code: 'not_ours', operation: 'migrate', transient: false });
			expect((error as Error).message).toContain(`relation public.${table}_expires_at_idx`);
			expect((error as Error).message).toContain(`table public.${table} `);
			// nothing made, nothing recorded, and the other store as it was
			expect(await found(table)).toBe(false);
			const recorded = await pool.query('SELECT table_name FROM atcute_oauth_schema WHERE table_name = $1', [
				table,
			]);
			expect(recorded.rows).toEqual([]);
			expect(await first.get('k')).toBe('the other store');
			expect(await indexesOf(`${table}_expires_at_idx`)).toHaveLength(1);
		});

		it('is not_ours when the app has a view of that name, which is left alone', async () => {
			const table = uniqueName('clash_view');
			await pool.query(`CREATE VIEW "${table}_expires_at_idx" AS SELECT 1 AS one`);
			const error = await failure(new PostgresStore({ pool, table }).migrate());
			expect(error).toMatchObject({ name: 'PostgresStoreError', code: 'not_ours' });
			expect((await pool.query(`SELECT one FROM "${table}_expires_at_idx"`)).rows).toEqual([{ one: 1 }]);
			expect(await found(table)).toBe(false);
		});

		it("is not_ours the other way round too: a store named after an existing store's index", async () => {
			const table = uniqueName('clash_rev');
			const first = new PostgresStore({ pool, table });
			await first.set('k', 1);
			const error = await failure(new PostgresStore({ pool, table: `${table}_expires_at_idx` }).migrate());
			expect(error).toMatchObject({ name: 'PostgresStoreError', code: 'not_ours' });
			expect(await first.get('k')).toBe(1);
			expect((await indexesOf(table)).map((each) => each.indexname)).toEqual([`${table}_expires_at_idx`]);
		});

		it('keeps working for a table made before, whose index is already there', async () => {
			const table = uniqueName('existing');
			await new PostgresStore({ pool, table }).set('k', 1);
			// a restarted process: the check applies to a table being made, not to one up to date
			const again = new PostgresStore({ pool, table });
			await again.migrate();
			expect(await again.get('k')).toBe(1);
		});
	});
});
