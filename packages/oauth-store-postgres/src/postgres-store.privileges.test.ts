import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresStoreError } from './errors.ts';
import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

/** what a promise settled with: its value, or the error. */
const outcome = (promise: Promise<unknown>): Promise<unknown> =>
	promise.then(
		(value) => ({ resolved: value }),
		(err: unknown) => err,
	);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgresStore migration with the least privileges', () => {
	let database: TestDatabase;
	/** the superuser: makes the schemas, roles and grants. */
	let admin: pg.Pool;
	const roles: string[] = [];
	const schemas: string[] = [];
	const pools: pg.Pool[] = [];

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'privileges');
		admin = testPool(database.url);
	});
	afterAll(async () => {
		await Promise.all(pools.map((pool) => pool.end()));
		for (const schema of schemas) await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
		await admin?.end();
		// the grants live in the database: once it is gone, the roles (cluster-wide) can go too
		await database?.drop();
		const cluster = testPool(sharedPostgresUrl());
		try {
			for (const role of roles) await cluster.query(`DROP ROLE IF EXISTS "${role}"`);
		} finally {
			await cluster.end();
		}
	});

	/** a new login role (no privileges beyond PUBLIC's) and a pool that connects as it. */
	const newRole = async (label: string): Promise<{ role: string; url: string; pool: pg.Pool }> => {
		const role = uniqueName(label);
		await admin.query(`CREATE ROLE "${role}" LOGIN`);
		roles.push(role);
		const url = new URL(database.url);
		url.username = role;
		const pool = testPool(url.toString());
		pools.push(pool);
		return { role, url: url.toString(), pool };
	};

	/** a new schema, made by the superuser (owned by `owner` if given), dropped after the file. */
	const newSchema = async (label: string, owner?: string): Promise<string> => {
		const schema = uniqueName(label);
		await admin.query(`CREATE SCHEMA "${schema}"${owner === undefined ? '' : ` AUTHORIZATION "${owner}"`}`);
		schemas.push(schema);
		return schema;
	};

	/** `role` may read and write `table` of `schema` and read its meta table, and create nothing. */
	const grantDml = async (role: string, schema: string, tables: string[]): Promise<void> => {
		if (schema !== 'public') await admin.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
		await admin.query(`GRANT SELECT ON "${schema}".atcute_oauth_schema TO "${role}"`);
		for (const table of tables) {
			await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON "${schema}"."${table}" TO "${role}"`);
		}
	};

	/** what `role` may create, as the server sees it: on the database, and on `schema`. */
	const mayCreate = async (role: string, schema: string) => {
		const { rows } = await admin.query(
			`SELECT has_database_privilege($1, current_database(), 'CREATE') AS database,
			        has_schema_privilege($1, $2, 'CREATE') AS schema`,
			[role, schema],
		);
		return rows[0] as { database: boolean; schema: boolean };
	};

	const metaRows = async (schema: string) =>
		(
			await admin.query(
				`SELECT table_name, kind, version FROM "${schema}".atcute_oauth_schema ORDER BY table_name`,
			)
		).rows;

	describe('a role that owns its schema but may not create schemas in the database', () => {
		it('migrates its tables there and uses them, also when several processes start at once', async () => {
			const { role, url, pool } = await newRole('schema_owner');
			const schema = await newSchema('owned', role);
			expect(await mayCreate(role, schema)).toEqual({ database: false, schema: true });

			// four processes (a connection each) start at once on the fresh schema
			const processes = Array.from({ length: 4 }, () => {
				const each = testPool(url, { max: 1 });
				pools.push(each);
				return new PostgresStore({ pool: each, schema, table: 'oauth_sessions' });
			});
			expect(await Promise.all(processes.map((store) => outcome(store.migrate())))).toEqual(
				Array(4).fill({ resolved: undefined }),
			);

			const sessions = new PostgresStore({ pool, schema, table: 'oauth_sessions' });
			await sessions.set('did:plc:a', { n: 1 });
			expect(await processes[3]!.get('did:plc:a')).toEqual({ n: 1 });
			// a second table beside it, once the meta table is there
			const states = new PostgresStore({ pool, schema, table: 'oauth_states' });
			await states.set('state', { v: 1 }, { expiresAt: Date.now() + 60_000 });
			expect(await states.take('state')).toEqual({ v: 1 });
			expect(await metaRows(schema)).toEqual([
				{ table_name: 'oauth_sessions', kind: 'store', version: 1 },
				{ table_name: 'oauth_states', kind: 'store', version: 1 },
			]);
			// and a restart finds them up to date
			await new PostgresStore({ pool, schema, table: 'oauth_sessions' }).migrate();
		});
	});

	// its own schema: before, the migration stopped at CREATE SCHEMA IF NOT EXISTS (CREATE on the
	// database); public: at CREATE TABLE IF NOT EXISTS of the meta table (CREATE on the schema)
	describe.each([
		['in a schema of its own', 'own'],
		['in public', 'public'],
	])('a role that may only read and write the tables, %s', (_name, where) => {
		/** a schema whose meta table and table `current` the superuser made, and a DML-only role. */
		const setUp = async () => {
			const schema = where === 'public' ? 'public' : await newSchema('dml');
			const current = uniqueName('current');
			await new PostgresStore({ pool: admin, schema, table: current }).migrate();
			const { role, pool } = await newRole('dml_only');
			await grantDml(role, schema, [current]);
			expect(await mayCreate(role, schema)).toEqual({ database: false, schema: false });
			return { schema, current, role, pool };
		};

		it('uses a table already migrated, with migrate: true, and is told version_too_new for one a newer version made', async () => {
			const { schema, current, role, pool } = await setUp();
			const store = new PostgresStore({ pool, schema, table: current });
			await store.set('a', { n: 1 });
			expect(await store.take('a')).toEqual({ n: 1 });
			expect(await store.purge()).toBe(0);

			const newer = uniqueName('newer');
			await new PostgresStore({ pool: admin, schema, table: newer }).migrate();
			await admin.query(`UPDATE "${schema}".atcute_oauth_schema SET version = 2 WHERE table_name = $1`, [
				newer,
			]);
			await grantDml(role, schema, [newer]);
			const error = await outcome(new PostgresStore({ pool, schema, table: newer }).get('a'));
			expect(error).toBeInstanceOf(PostgresStoreError);
			expect(error).toMatchObject({ code: 'version_too_new', operation: 'migrate', transient: false });
			expect((error as Error).message).toMatch(/format version 2, newer than the 1/);
			// left as it was
			expect(await metaRows(schema)).toContainEqual({ table_name: newer, kind: 'store', version: 2 });
		});

		it('is told not_ours for a table it did not make, and for one of another kind', async () => {
			const { schema, current, role, pool } = await setUp();
			// the app's own table: the meta table has no row for it
			const foreign = uniqueName('foreign');
			await admin.query(`CREATE TABLE "${schema}"."${foreign}" (key text, value text)`);
			// a table the package made for something else
			const other = uniqueName('other_kind');
			await new PostgresStore({ pool: admin, schema, table: other }).migrate();
			await admin.query(`UPDATE "${schema}".atcute_oauth_schema SET kind = 'lock' WHERE table_name = $1`, [
				other,
			]);
			await grantDml(role, schema, [foreign, other]);

			await new PostgresStore({ pool, schema, table: current }).set('a', 1);
			const foreignError = await outcome(new PostgresStore({ pool, schema, table: foreign }).migrate());
			expect(foreignError).toBeInstanceOf(PostgresStoreError);
			expect(foreignError).toMatchObject({ code: 'not_ours', operation: 'migrate', transient: false });
			expect((foreignError as Error).message).toMatch(/was not created by @atcute\/oauth-store-postgres/);
			const otherError = await outcome(new PostgresStore({ pool, schema, table: other }).get('a'));
			expect(otherError).toMatchObject({ name: 'PostgresStoreError', code: 'not_ours' });
			expect((otherError as Error).message).toMatch(/is a lock table, not a store table/);
		});
	});

	it('tells a role that may only read and write not_ours for a table in a schema with no meta table, and creates none', async () => {
		const schema = await newSchema('bare');
		const foreign = uniqueName('foreign');
		await admin.query(`CREATE TABLE "${schema}"."${foreign}" (id int)`);
		const { role, pool } = await newRole('dml_bare');
		await admin.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
		await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON "${schema}"."${foreign}" TO "${role}"`);

		const error = await outcome(new PostgresStore({ pool, schema, table: foreign }).migrate());
		expect(error).toMatchObject({ name: 'PostgresStoreError', code: 'not_ours', transient: false });
		const { rows } = await admin.query('SELECT to_regclass($1) AS meta', [`"${schema}".atcute_oauth_schema`]);
		expect(rows[0].meta).toBeNull();
	});

	// the second process looked before it waited: what it saw then (no meta table, or no table)
	// must not decide what it does once the first has made them
	it.each([
		['its first table, in a schema with no meta table yet', 'schema'],
		['its first table, in public with no meta table yet (a new database)', 'public'],
		['a table dropped after it was made (its meta row kept)', 'dropped'],
	])(
		'finds up to date %s that another process made while it waited for the migration lock',
		async (_name, setting) => {
			const fresh = setting === 'public' ? await createTestDatabase(sharedPostgresUrl(), 'raced') : undefined;
			const url = fresh?.url ?? database.url;
			const owner = testPool(url);
			const waiter = testPool(url, { max: 1 });
			const schema = setting === 'public' ? 'public' : await newSchema('raced');
			const table = 'oauth_sessions';
			try {
				if (setting === 'dropped') {
					await new PostgresStore({ pool: owner, schema, table }).migrate();
					await owner.query(`DROP TABLE "${schema}"."${table}"`);
				}

				// the first process migrates in a transaction it keeps open: it holds the migration lock
				const first = await owner.connect();
				try {
					await first.query('BEGIN');
					await new PostgresStore({ pool: first, schema, table }).migrate();

					// the second looks (nothing made yet, as far as it can see) and waits for the lock
					const second = new PostgresStore({ pool: waiter, schema, table });
					const migrated = outcome(second.migrate());
					for (let waited = 0; ; waited += 20) {
						const { rows } = await owner.query(
							`SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_database d ON d.oid = l.database
						 WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()`,
						);
						if (rows[0].waiting > 0) break;
						if (waited > 5_000) throw new Error('the second migration never waited for the lock');
						await sleep(20);
					}
					await first.query('COMMIT');

					expect(await migrated).toEqual({ resolved: undefined });
					await second.set('a', 1);
					expect(await second.get('a')).toBe(1);
				} finally {
					await first.query('ROLLBACK').catch(() => {});
					first.release();
				}
				const meta = await owner.query(
					`SELECT table_name, kind, version FROM "${schema}".atcute_oauth_schema`,
				);
				expect(meta.rows).toEqual([{ table_name: table, kind: 'store', version: 1 }]);
			} finally {
				await waiter.end();
				await owner.end();
				await fresh?.drop();
			}
		},
	);
});
