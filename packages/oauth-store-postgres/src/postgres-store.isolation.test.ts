import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

/** processes starting at once, each with a connection of its own. */
const PROCESSES = 6;
/** fresh tables per isolation level: the race is timing-dependent, so try it a few times. */
const ROUNDS = 3;

describe("PostgresStore migration under the server's default isolation level", () => {
	let database: TestDatabase;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'isolation');
	});
	afterAll(() => database?.drop());

	it.each(['read committed', 'repeatable read', 'serializable'])(
		'creates the table once when 6 processes start at the same time under %s',
		async (isolation) => {
			const outcomes: string[] = [];
			const notices: string[] = [];
			for (let round = 0; round < ROUNDS; round++) {
				const table = uniqueName('iso');
				// as a role or database with default_transaction_isolation set would have it
				const options = `-c default_transaction_isolation=${isolation.replace(' ', '\\ ')}`;
				const pools = Array.from({ length: PROCESSES }, () => testPool(database.url, { max: 1, options }));
				// no warning about the transaction either
				for (const pool of pools)
					pool.on('connect', (client) => client.on('notice', (n) => notices.push(n.message ?? '')));
				try {
					const stores = pools.map((pool) => new PostgresStore({ pool, table }));
					const results = await Promise.allSettled(stores.map((store) => store.migrate()));
					outcomes.push(
						...results.map((result) =>
							result.status === 'fulfilled' ? 'ok' : `${result.reason.name}: ${result.reason.message}`,
						),
					);
					await stores[0]!.set('k', round);
					expect(await stores[PROCESSES - 1]!.get('k')).toBe(round);
					// the isolation level the app chose is untouched for its own queries
					const shown = await pools[0]!.query('SHOW transaction_isolation');
					expect(shown.rows[0].transaction_isolation).toBe(isolation);
				} finally {
					await Promise.all(pools.map((pool) => pool.end()));
				}
			}
			expect(outcomes).toEqual(Array(PROCESSES * ROUNDS).fill('ok'));
			expect(notices.filter((notice) => /transaction/i.test(notice))).toEqual([]);
		},
	);

	it('migrates several tables at once under serializable, as an app starting its stores together does', async () => {
		const options = '-c default_transaction_isolation=serializable';
		// the schema's record table already there, as after a first deploy: the case that conflicts
		const first = testPool(database.url, { options });
		await new PostgresStore({ pool: first, table: uniqueName('first') }).migrate();
		await first.end();
		const outcomes: string[] = [];
		for (let round = 0; round < 10; round++) {
			const pool = testPool(database.url, { options });
			try {
				const stores = Array.from(
					{ length: 4 },
					() => new PostgresStore({ pool, table: uniqueName('many') }),
				);
				const results = await Promise.allSettled(stores.map((store) => store.migrate()));
				outcomes.push(
					...results.map((result) =>
						result.status === 'fulfilled' ? 'ok' : `${result.reason.name}: ${result.reason.message}`,
					),
				);
			} finally {
				await pool.end();
			}
		}
		expect(outcomes).toEqual(Array(40).fill('ok'));
	});

	it('still calls a table it did not make not ours under repeatable read', async () => {
		const pool = testPool(database.url, { options: '-c default_transaction_isolation=repeatable\\ read' });
		try {
			const table = uniqueName('foreign');
			await pool.query(`CREATE TABLE "${table}" (id int)`);
			const error = await new PostgresStore({ pool, table }).migrate().catch((err: unknown) => err);
			expect(error).toMatchObject({ name: 'PostgresStoreError', code: 'not_ours' });
		} finally {
			await pool.end();
		}
	});

	it('migrates through a queryable that sends every query in the extended protocol', async () => {
		const pool = testPool(database.url);
		try {
			// as a driver that prepares every statement does: one statement per query, no more
			const extended = { query: (query: object) => pool.query({ ...query, queryMode: 'extended' } as never) };
			const store = new PostgresStore({ pool: extended as never, table: uniqueName('ext') });
			await store.migrate();
			await store.set('k', 1);
			expect(await store.get('k')).toBe(1);
		} finally {
			await pool.end();
		}
	});

	it.each(['repeatable read', 'serializable'])(
		'migrates inside the app’s own %s transaction without changing its isolation level',
		async (isolation) => {
			const pool = testPool(database.url);
			const client = await pool.connect();
			try {
				await client.query(`BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`);
				await client.query('SELECT 1');
				const store = new PostgresStore({ pool: client, table: uniqueName('tx') });
				await store.migrate();
				expect((await client.query('SHOW transaction_isolation')).rows[0].transaction_isolation).toBe(
					isolation,
				);
				await client.query('COMMIT');
			} finally {
				client.release();
				await pool.end();
			}
		},
	);
});
