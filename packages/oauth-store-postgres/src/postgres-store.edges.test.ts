import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

describe('PostgresStore in a database whose encoding is not UTF8', () => {
	let database: TestDatabase;
	let pool: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'latin1', 'LATIN1');
		pool = testPool(database.url);
	});
	afterAll(async () => {
		await pool?.end();
		await database?.drop();
	});

	it('finds no entry under a key the encoding cannot hold, and refuses to store one', async () => {
		const store = new PostgresStore<string, { n: number }>({ pool, table: uniqueName('states') });
		// a ?state= anyone can send: LATIN1 has no emoji
		const key = 'state-\u{1F600}';
		expect(await store.get(key)).toBeUndefined();
		expect(await store.take(key)).toBeUndefined();
		await expect(store.delete(key)).resolves.toBeUndefined();
		await expect(store.set(key, { n: 1 })).rejects.toMatchObject({
			name: 'PostgresStoreError',
			code: 'rejected',
		});
		// what LATIN1 holds works as anywhere
		await store.set('café', { n: 2 });
		expect(await store.get('café')).toEqual({ n: 2 });
	});
});

describe('PostgresStore: a dropped table, keys UTF-8 cannot hold, bounds', () => {
	let database: TestDatabase;
	let pool: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'edges');
		pool = testPool(database.url);
	});
	afterAll(async () => {
		await pool?.end();
		await database?.drop();
	});

	it('makes the table again, in the same process, and carries on', async () => {
		const table = uniqueName('sessions');
		const store = new PostgresStore<string, { n: number }>({ pool, table });
		await store.set('a', { n: 1 });
		await pool.query(`DROP TABLE "${table}"`);

		expect(await store.get('a')).toBeUndefined();
		await store.set('a', { n: 2 });
		expect(await store.get('a')).toEqual({ n: 2 });
	});

	it('makes its schema again too', async () => {
		const schema = uniqueName('auth');
		const table = uniqueName('sessions');
		const store = new PostgresStore<string, { n: number }>({ pool, schema, table });
		await store.set('a', { n: 1 });
		await pool.query(`DROP SCHEMA "${schema}" CASCADE`);

		await store.set('b', { n: 2 });
		expect(await store.get('b')).toEqual({ n: 2 });
		expect(await store.take('b')).toEqual({ n: 2 });
	});

	it('leaves a store made with migrate: false failing, as its owner migrates', async () => {
		const table = uniqueName('sessions');
		await new PostgresStore({ pool, table }).migrate();
		const store = new PostgresStore<string, { n: number }>({ pool, table, migrate: false });
		await pool.query(`DROP TABLE "${table}"`);
		await expect(store.get('a')).rejects.toMatchObject({ code: 'rejected' });
	});

	it('never lets two keys with lone surrogates share a row', async () => {
		const store = new PostgresStore<string, string>({ pool, table: uniqueName('keys') });
		await expect(store.set('\ud800', 'high')).rejects.toThrow(/lone surrogate/);
		await store.set('\ufffd', 'replacement character');
		// each would reach the server as U+FFFD, the key above
		expect(await store.get('\udc00')).toBeUndefined();
		expect(await store.take('x\ud800y')).toBeUndefined();
		await store.delete('\udfff');
		expect(await store.get('\ufffd')).toBe('replacement character');
		// a well-formed pair is a key like any other
		await store.set('\ud83d\ude00', 'emoji');
		expect(await store.get('\ud83d\ude00')).toBe('emoji');
	});

	it('refuses a purgeLimit PostgreSQL cannot take', () => {
		expect(() => new PostgresStore({ pool, table: 'x', purgeLimit: 1e20 })).toThrow(
			/purgeLimit .*up to 2147483647/,
		);
	});
});
