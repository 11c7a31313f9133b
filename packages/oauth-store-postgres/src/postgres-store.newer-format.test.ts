// a table a newer release of this package migrated, met by this one: processes of both share the
// database while a deploy rolls out, and this one comes back on a rollback. a newer format this
// version still reads and writes (an index added, a column with a default) says so in its meta row
// (`compatible_from`: the oldest format version that reads and writes the table), and is used;
// any other is refused with `version_too_new`, untouched
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresStoreError } from './errors.ts';
import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

describe('a PostgreSQL table a newer release migrated', () => {
	let database: TestDatabase;
	let pool: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'newer_format');
		pool = testPool(database.url);
	});
	afterAll(async () => {
		await pool?.end();
		await database?.drop();
	});

	/** a table this version made, then migrated as a newer release would: the format and the oldest that still works. */
	const madeThenMigrated = async (compatibleFrom: number | null) => {
		const schema = uniqueName('newer');
		const table = 'oauth_sessions';
		await new PostgresStore({ pool, schema, table }).set('did:plc:abc', { refresh_token: 'r1' });
		await pool.query(`ALTER TABLE "${schema}".atcute_oauth_schema ADD COLUMN compatible_from integer`);
		await pool.query(
			`UPDATE "${schema}".atcute_oauth_schema SET version = 2, compatible_from = $1 WHERE table_name = $2`,
			[compatibleFrom, table],
		);
		const metaRow = async () =>
			(await pool.query(`SELECT kind, version, compatible_from FROM "${schema}".atcute_oauth_schema`)).rows;
		return { schema, table, metaRow, before: await metaRow() };
	};

	it('reads and writes a table whose newer format says this version still works with it, changing no record', async () => {
		const { schema, table, metaRow, before } = await madeThenMigrated(1);

		// a process of this version starting (or restarting) while the deploy rolls out, or after a rollback
		const store = new PostgresStore({ pool, schema, table });
		await store.migrate();
		expect(await store.get('did:plc:abc')).toEqual({ refresh_token: 'r1' });
		await store.set('did:plc:abc', { refresh_token: 'r2' });
		expect(await new PostgresStore({ pool, schema, table }).get('did:plc:abc')).toEqual({
			refresh_token: 'r2',
		});
		expect(await metaRow()).toEqual(before);
	});

	it.each([
		['this version cannot work with', 2],
		['does not say which versions work with', null],
	])('refuses a table whose newer format %s, changing nothing', async (_case, compatibleFrom) => {
		const { schema, table, metaRow, before } = await madeThenMigrated(compatibleFrom);

		const error = await new PostgresStore({ pool, schema, table })
			.get('did:plc:abc')
			.catch((err: unknown) => err);
		expect(error).toBeInstanceOf(PostgresStoreError);
		expect(error).toMatchObject({ code: 'version_too_new', operation: 'migrate', transient: false });
		expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}"."${table}"`)).rows).toEqual([
			{ n: 1 },
		]);
		expect(await metaRow()).toEqual(before);
	});
});
