import { inspect } from 'node:util';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresStoreError, StoreUnavailableError } from './errors.ts';
import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';
import { tightStore } from './test-utils/tight-store.ts';

/** a session-shaped value whose refresh token must never show up in an error. */
const SECRET = 'secret-refresh-token-5f1c4a3e';
const session = { tokenSet: { sub: 'did:plc:a', refresh_token: SECRET, access_token: 'secret-at' } };

/** what a promise settled with: its value, or the error. */
const outcome = (promise: Promise<unknown>): Promise<unknown> =>
	promise.then(
		(value) => ({ resolved: value }),
		(err: unknown) => err,
	);

describe('PostgresStore', () => {
	let database: TestDatabase;
	let pool: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'store');
		pool = testPool(database.url);
	});
	afterAll(async () => {
		await pool?.end();
		await database?.drop();
	});

	describe('options', () => {
		it.each([
			['pool', { pool: {} }, /pool must be a node-postgres Pool/],
			['table', { table: 'oauth-sessions' }, /table must be 1 to 63 letters/],
			['table', { table: 'x'.repeat(64) }, /table must be 1 to 63/],
			['table', { table: 'a"; DROP TABLE b; --' }, /table must be/],
			['schema', { schema: '1abc' }, /schema must be/],
			['schema', { schema: 'pg_oauth' }, /schema must not start with "pg_"/],
			['timeout', { timeout: 0 }, /timeout must be a positive number/],
			['timeout', { timeout: 2 ** 31 }, /timeout .*up to 2147483647/],
			['purgeInterval', { purgeInterval: 1.5 }, /purgeInterval must be a positive integer/],
			['purgeLimit', { purgeLimit: -1 }, /purgeLimit must be a positive integer/],
		])('refuses a bad %s with a TypeError naming it', (_name, override, message) => {
			expect(() => new PostgresStore({ pool, table: 'oauth_sessions', ...override } as never)).toThrow(
				expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(message) }),
			);
		});

		it('takes a single Client as well as a Pool', async () => {
			const client = new pg.Client({ connectionString: database.url });
			await client.connect();
			try {
				const store = new PostgresStore({ pool: client, table: uniqueName('client') });
				await store.set('a', { n: 1 });
				expect(await store.get('a')).toEqual({ n: 1 });
			} finally {
				await client.end();
			}
		});
	});

	describe('migration', () => {
		it('creates the table once when 8 processes start at the same time, and records version 1', async () => {
			const schema = uniqueName('concurrent');
			const table = 'oauth_sessions';
			// a pool each: 8 connections running the migration at once, as 8 processes would
			const pools = Array.from({ length: 8 }, () => testPool(database.url, { max: 1 }));
			try {
				const stores = pools.map((each) => new PostgresStore({ pool: each, schema, table }));
				await Promise.all(stores.map((store) => store.migrate()));
				await Promise.all(stores.map((store, i) => store.set(`k${i}`, i)));
				expect(await stores[0]!.get('k7')).toBe(7);
				const meta = await pool.query(
					`SELECT table_name, kind, version FROM "${schema}".atcute_oauth_schema`,
				);
				expect(meta.rows).toEqual([{ table_name: table, kind: 'store', version: 1 }]);
				const columns = await pool.query(
					`SELECT column_name, data_type, is_nullable FROM information_schema.columns
					 WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
					[schema, table],
				);
				expect(columns.rows).toEqual([
					{ column_name: 'key', data_type: 'text', is_nullable: 'NO' },
					{ column_name: 'value', data_type: 'json', is_nullable: 'NO' },
					{ column_name: 'expires_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
				]);
			} finally {
				await Promise.all(pools.map((each) => each.end()));
			}
		});

		it("keeps to its schema, beside an app's own table of the same name", async () => {
			const table = uniqueName('shared_name');
			await pool.query(`CREATE TABLE "${table}" (id int)`);
			await pool.query(`INSERT INTO "${table}" VALUES (1)`);
			const schema = uniqueName('oauth');
			const store = new PostgresStore({ pool, schema, table });
			await store.set('a', 1);
			await store.clear();
			expect((await pool.query(`SELECT id FROM "${table}"`)).rows).toEqual([{ id: 1 }]);
		});

		it('refuses a table it did not make, and leaves it alone', async () => {
			const table = uniqueName('app_table');
			await pool.query(`CREATE TABLE "${table}" (key text, value text)`);
			await pool.query(`INSERT INTO "${table}" VALUES ('k', 'the app''s')`);
			const store = new PostgresStore({ pool, table });
			const error = await outcome(store.get('k'));
			expect(error).toBeInstanceOf(PostgresStoreError);
			expect(error).toMatchObject({ code: 'not_ours', operation: 'migrate', transient: false });
			expect((await pool.query(`SELECT value FROM "${table}"`)).rows).toEqual([{ value: "the app's" }]);
		});

		it('refuses a table a newer version made', async () => {
			const table = uniqueName('newer');
			await new PostgresStore({ pool, table }).set('a', 1);
			await pool.query('UPDATE atcute_oauth_schema SET version = 99 WHERE table_name = $1', [table]);
			const error = await outcome(new PostgresStore({ pool, table }).get('a'));
			expect(error).toMatchObject({ name: 'PostgresStoreError', code: 'version_too_new' });
			expect((error as Error).message).toMatch(/format version 99/);
		});

		it('makes its table again when it was dropped after it was made, rather than report it up to date', async () => {
			const table = uniqueName('dropped');
			await new PostgresStore({ pool, table }).set('a', 1);
			await pool.query(`DROP TABLE "${table}"`);
			// a restarted process: its migrate() runs again
			const store = new PostgresStore({ pool, table });
			await store.migrate();
			expect((await pool.query('SELECT to_regclass($1) AS found', [table])).rows[0].found).not.toBeNull();
			await store.set('b', 2);
			expect(await store.get('b')).toBe(2);
			expect(await store.get('a')).toBeUndefined();
			const { rows } = await pool.query(
				'SELECT kind, version FROM atcute_oauth_schema WHERE table_name = $1',
				[table],
			);
			expect(rows).toEqual([{ kind: 'store', version: 1 }]);
		});

		it('runs under a role that may read and write the tables but not create any, once they are made', async () => {
			const table = uniqueName('granted');
			await new PostgresStore({ pool, table }).migrate();
			const role = uniqueName('app_role');
			await pool.query(`CREATE ROLE "${role}" LOGIN`);
			await pool.query(`GRANT SELECT ON atcute_oauth_schema TO "${role}"`);
			await pool.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON "${table}" TO "${role}"`);
			const url = new URL(database.url);
			url.username = role;
			const limited = testPool(url.toString());
			try {
				const store = new PostgresStore({ pool: limited, table });
				await store.set('a', { n: 1 });
				expect(await store.take('a')).toEqual({ n: 1 });
			} finally {
				await limited.end();
			}
		});

		it('tries the migration again after PostgreSQL could not be reached', async () => {
			const table = uniqueName('retry');
			let reachable = false;
			// the first call fails as a pool does while the database is down
			const flaky = {
				query: (query: { text: string; values?: unknown[] }) =>
					reachable
						? pool.query(query)
						: Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
			};
			const store = new PostgresStore({ pool: flaky, table });
			expect(await outcome(store.get('a'))).toMatchObject({
				name: 'StoreUnavailableError',
				operation: 'migrate',
			});
			reachable = true;
			await store.set('a', 1);
			expect(await store.get('a')).toBe(1);
		});
	});

	describe('expiry and purge', () => {
		it('purges at most purgeLimit expired rows at a time, oldest first, and keeps the rest', async () => {
			let time = 1_000_000;
			const table = uniqueName('purge');
			const store = new PostgresStore({ pool, table, purgeLimit: 50, purgeInterval: 1_000, now: () => time });
			for (let i = 0; i < 120; i++) await store.set(`state-${i}`, i, { expiresAt: time + 1_000 + i });
			await store.set('session', { forever: true });
			await store.set('later', 1, { expiresAt: time + 60_000 });
			time += 10_000;

			expect(await store.purge()).toBe(50);
			// oldest first: the first 50 states went
			const left = await pool.query(`SELECT key FROM "${table}" WHERE key LIKE 'state-%'`);
			expect(left.rows.map((row) => Number(row.key.slice(6))).sort((a, b) => a - b)[0]).toBe(50);
			expect(await store.purge()).toBe(50);
			expect(await store.purge()).toBe(20);
			expect(await store.purge()).toBe(0);
			expect(await store.get('session')).toEqual({ forever: true });
			expect(await store.get('later')).toBe(1);
		});

		it('purges on its own every purgeInterval writes', async () => {
			let time = 1_000_000;
			const table = uniqueName('auto_purge');
			const store = new PostgresStore({ pool, table, purgeInterval: 10, now: () => time });
			for (let i = 0; i < 9; i++) await store.set(`s${i}`, i, { expiresAt: time + 100 });
			time += 1_000;
			const count = async () => Number((await pool.query(`SELECT count(*) FROM "${table}"`)).rows[0].count);
			expect(await count()).toBe(9);
			// the 10th write starts a purge without waiting for it
			await store.set('session', 1);
			await expect.poll(count, { timeout: 5_000 }).toBe(1);
		});

		it('finds expired rows through its partial index, not a scan', async () => {
			const table = uniqueName('plan');
			const store = new PostgresStore({ pool, table });
			await store.migrate();
			// a table of realistic size, so the planner's choice means something
			await pool.query(
				`INSERT INTO "${table}" (key, value, expires_at)
				 SELECT 'k' || i, '{}'::json, CASE WHEN i % 10 = 0 THEN now() + interval '1 hour' END
				 FROM generate_series(1, 20000) AS i`,
			);
			await pool.query(`ANALYZE "${table}"`);
			const plan = await pool.query(
				`EXPLAIN SELECT key FROM "${table}" WHERE expires_at <= now() ORDER BY expires_at LIMIT 500`,
			);
			expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toContain(`${table}_expires_at_idx`);
		});
	});

	describe('failures', () => {
		it('fails every operation with a StoreUnavailableError when nothing listens, and never reads as "no session"', async () => {
			// a port nothing listens on: the server refuses the connection
			const probe = await import('node:net').then(
				({ createServer }) =>
					new Promise<number>((resolve) => {
						const server = createServer().listen(0, '127.0.0.1', () => {
							const { port } = server.address() as { port: number };
							server.close(() => resolve(port));
						});
					}),
			);
			const down = testPool(`postgres://postgres@127.0.0.1:${probe}/postgres`);
			try {
				const store = new PostgresStore({ pool: down, table: 'oauth_sessions', timeout: 2_000 });
				for (const run of [
					() => store.get('did:plc:a'),
					() => store.set('did:plc:a', session),
					() => store.delete('did:plc:a'),
					() => store.take('did:plc:a'),
					() => store.clear(),
				]) {
					const error = await outcome(run());
					expect(error).toBeInstanceOf(StoreUnavailableError);
					expect(error).toMatchObject({ transient: true, message: expect.stringMatching(/ECONNREFUSED/) });
				}
				// a purge is named as one, not as the set that may have started it
				const purge = await outcome(
					new PostgresStore({ pool: down, table: 'oauth_sessions', migrate: false, timeout: 2_000 }).purge(),
				);
				expect(purge).toBeInstanceOf(StoreUnavailableError);
				expect(purge).toMatchObject({ operation: 'purge' });
			} finally {
				await down.end();
			}
		});

		it('fails every operation with a PostgresStoreError (closed, not transient) once the pool was ended', async () => {
			const ended = testPool(database.url);
			const table = uniqueName('ended');
			const store = new PostgresStore({ pool: ended, table });
			await store.set('did:plc:a', session);
			await ended.end();
			const operations = {
				get: () => store.get('did:plc:a'),
				set: () => store.set('did:plc:a', session),
				delete: () => store.delete('did:plc:a'),
				take: () => store.take('did:plc:a'),
				clear: () => store.clear(),
				purge: () => store.purge(),
			};
			for (const [operation, run] of Object.entries(operations)) {
				const started = performance.now();
				const error = await outcome(run());
				// a retry loop that follows `transient` must stop: an ended pool never connects again
				expect(error).toBeInstanceOf(PostgresStoreError);
				expect(error).toMatchObject({
					code: 'closed',
					operation,
					transient: false,
					message: expect.stringMatching(/the pool was ended \(pool\.end\(\) was called\)/),
					cause: expect.objectContaining({ message: 'Cannot use a pool after calling end on the pool' }),
				});
				expect(performance.now() - started).toBeLessThan(1000);
			}
			// a store that had not migrated yet fails its migration the same way
			const fresh = await outcome(new PostgresStore({ pool: ended, table: uniqueName('fresh') }).get('a'));
			expect(fresh).toMatchObject({ name: 'PostgresStoreError', code: 'closed', transient: false });
		});

		it('fails with a PostgresStoreError (closed, not transient) on a Client that was ended', async () => {
			const client = new pg.Client({ connectionString: database.url });
			await client.connect();
			const store = new PostgresStore({ pool: client, table: uniqueName('ended_client') });
			await store.set('did:plc:a', session);
			await client.end();
			for (const run of [() => store.get('did:plc:a'), () => store.set('did:plc:a', session)]) {
				const error = await outcome(run());
				expect(error).toBeInstanceOf(PostgresStoreError);
				expect(error).toMatchObject({
					code: 'closed',
					transient: false,
					message: expect.stringMatching(/the client was closed \(client\.end\(\) was called\)/),
				});
			}
		});

		it('gives up on a statement that does not answer in time, with a StoreUnavailableError', async () => {
			const table = uniqueName('slow');
			const store = await tightStore({ pool, table, timeout: 300 });
			await store.set('did:plc:a', 1);
			// another transaction holds the row: the upsert waits for it
			const blocker = await pool.connect();
			try {
				await blocker.query('BEGIN');
				await blocker.query(`SELECT * FROM "${table}" WHERE key = 'did:plc:a' FOR UPDATE`);
				const error = await outcome(store.set('did:plc:a', 2));
				expect(error).toBeInstanceOf(StoreUnavailableError);
				expect(error).toMatchObject({
					operation: 'set',
					message: expect.stringMatching(/did not answer within 300 ms/),
				});
				await blocker.query('ROLLBACK');
			} finally {
				blocker.release();
			}
			// the upsert given up on is cancelled in the background (see queryWithin): whether the
			// cancel stopped it (1) or the ROLLBACK freed the row first and it landed (2) is a race
			// between the two, which a loaded machine decides either way. the row holds one of the
			// two writes, and the store goes on
			await expect.poll(async () => [1, 2].includes((await store.get('did:plc:a')) as number)).toBe(true);
			await store.set('did:plc:a', 3);
			expect(await store.get('did:plc:a')).toBe(3);
		});

		it('stops waiting when the signal aborts', async () => {
			const store = new PostgresStore({ pool, table: uniqueName('abort') });
			await store.migrate();
			const controller = new AbortController();
			controller.abort(new Error('gave up'));
			await expect(store.get('a', { signal: controller.signal })).rejects.toThrow('gave up');
		});

		it('fails with a PostgresStoreError (rejected, not transient) when PostgreSQL refuses, e.g. no permission', async () => {
			const table = uniqueName('owned');
			await new PostgresStore({ pool, table }).set('did:plc:a', session);
			const role = uniqueName('limited');
			await pool.query(`CREATE ROLE "${role}" LOGIN`);
			const url = new URL(database.url);
			url.username = role;
			const limited = testPool(url.toString());
			try {
				const store = new PostgresStore({ pool: limited, table, migrate: false });
				const error = await outcome(store.get('did:plc:a'));
				expect(error).toBeInstanceOf(PostgresStoreError);
				expect(error).toMatchObject({ code: 'rejected', transient: false, operation: 'get' });
				expect((error as Error).message).toMatch(/permission denied.*SQLSTATE 42501/);
			} finally {
				await limited.end();
			}
		});

		it('keeps the value out of the error when PostgreSQL quotes the failing row (pg puts it in detail)', async () => {
			const table = uniqueName('checked');
			const store = new PostgresStore({ pool, table });
			await store.migrate();
			// an app's own constraint: the server's error detail quotes the whole row
			await pool.query(
				`ALTER TABLE "${table}" ADD CONSTRAINT no_secrets CHECK (value::text NOT LIKE '%secret-refresh%')`,
			);

			// the detail quotes about the first 64 characters of each column: the token comes first
			const value = { refresh_token: SECRET, ...session };
			const raw = await outcome(
				pool.query(`INSERT INTO "${table}" (key, value) VALUES ($1, $2::json)`, [
					'raw',
					JSON.stringify(value),
				]),
			);
			// what pg itself throws carries the session: the test below can fail
			expect(inspect(raw, { depth: null, showHidden: true })).toContain(SECRET);

			const error = await outcome(store.set('did:plc:a', value));
			expect(error).toMatchObject({ name: 'PostgresStoreError', code: 'rejected', operation: 'set' });
			expect((error as Error).message).toMatch(/violates check constraint "no_secrets".*SQLSTATE 23514/);
			expect((error as Error).cause).toMatchObject({ code: '23514' });
			expect(inspect(error, { depth: null, showHidden: true })).not.toContain(SECRET);
			expect(JSON.stringify(error)).not.toContain(SECRET);
		});
	});
});
