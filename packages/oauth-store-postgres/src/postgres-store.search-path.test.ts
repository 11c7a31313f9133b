import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPostgresLock } from './create-postgres-lock.ts';
import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

/**
 * PostgreSQL 12 to 14 let every role create objects in `public`, which is on every role's default
 * `search_path` (after `pg_catalog`, searched first). a function or operator there whose argument
 * types match a call better than `pg_catalog`'s own (which needs an implicit cast) is the one the
 * server runs (CVE-2018-1058), as the role that sent the statement: another role of the database
 * could then run SQL as the store's role, and read every session. each trap below records that it
 * ran; none may.
 */
describe('PostgresStore and createPostgresLock with a hostile object on the search_path', () => {
	let database: TestDatabase;
	let admin: pg.Pool;
	let app: pg.Pool;
	let hostile: pg.Pool;
	const app_role = uniqueName('app');
	const hostile_role = uniqueName('hostile');

	const poolAs = (role: string): pg.Pool => {
		const url = new URL(database.url);
		url.username = role;
		return testPool(url.toString());
	};

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'search_path');
		admin = testPool(database.url);
		await admin.query(`CREATE ROLE "${app_role}" LOGIN`);
		await admin.query(`CREATE ROLE "${hostile_role}" LOGIN`);
		// what PostgreSQL 14 and earlier grant by default
		await admin.query('GRANT CREATE ON SCHEMA public TO PUBLIC');
		await admin.query('CREATE TABLE public.trap (who text, what text)');
		await admin.query('GRANT SELECT, INSERT ON public.trap TO PUBLIC');
		app = poolAs(app_role);
		hostile = poolAs(hostile_role);
	});
	afterAll(async () => {
		await app?.end();
		await hostile?.end();
		await admin?.end();
		await database?.drop();
		const cluster = testPool(sharedPostgresUrl());
		try {
			for (const role of [app_role, hostile_role]) await cluster.query(`DROP ROLE IF EXISTS "${role}"`);
		} finally {
			await cluster.end();
		}
	});

	/** a function of the hostile role's that records who ran it, then answers like the real one. */
	const trap = (name: string, args: string, returns: string, body: string) =>
		hostile.query(`CREATE FUNCTION public.${name}(${args}) RETURNS ${returns} LANGUAGE sql AS $f$
			INSERT INTO public.trap VALUES (current_user, '${name}(${args})'); ${body} $f$`);

	it('runs none of them, in the store, its migration or the lock', async () => {
		const table = uniqueName('sessions');
		// the first process made the table (and the bookkeeping table, whose row type a trap takes)
		await new PostgresStore({ pool: app, table }).migrate();

		// `float8 / integer`: pg_catalog has only float8 / float8 (and / real)
		await trap('hostile_div', 'float8, integer', 'float8', 'SELECT $1 / $2::float8');
		await hostile.query(
			'CREATE OPERATOR public./ (LEFTARG = float8, RIGHTARG = integer, FUNCTION = public.hostile_div)',
		);
		// pg_catalog's concat_ws takes VARIADIC "any": text arguments match these exactly
		await trap('concat_ws', 'text, text, text, text, text', 'text', "SELECT ''");
		await trap('concat_ws', 'text, text, text, text, text, text', 'text', "SELECT ''");
		// pg_catalog's to_jsonb takes anyelement
		await trap('to_jsonb', 'public.atcute_oauth_schema', 'jsonb', "SELECT '{}'::jsonb");

		// another process starts: it reads the bookkeeping row, then reads and writes
		const store = new PostgresStore<string, { n: number }>({ pool: app, table });
		await store.set('did:plc:alice', { n: 1 }, { expiresAt: Date.now() + 60_000 });
		expect(await store.get('did:plc:alice')).toEqual({ n: 1 });
		expect(await store.take('did:plc:alice')).toEqual({ n: 1 });
		await store.set('state', { n: 2 }, { expiresAt: Date.now() - 1_000 });
		expect(await store.purge()).toBe(1);

		const lock = createPostgresLock({ pool: app, prefix: uniqueName('lock'), onLeaseLost: () => {} });
		expect(await lock('did:plc:alice', async () => 'done')).toBe('done');
		// the connection went back to the pool, its settings put back
		expect(app.idleCount).toBeGreaterThan(0);

		const ran = await admin.query('SELECT who, what FROM public.trap');
		expect(ran.rows).toEqual([]);
	});
});
