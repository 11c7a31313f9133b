import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
});
