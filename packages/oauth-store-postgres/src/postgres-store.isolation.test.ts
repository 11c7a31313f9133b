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
				// none like "SET TRANSACTION can only be used in transaction blocks" (a warning, not an error)
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
});
