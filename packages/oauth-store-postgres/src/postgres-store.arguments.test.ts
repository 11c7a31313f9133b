import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPostgresLock } from './create-postgres-lock.ts';
import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

/** the largest time a Date can hold, in milliseconds since the epoch. */
const MAX_DATE = 8.64e15;

describe('PostgresStore arguments', () => {
	let database: TestDatabase;
	let pool: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'arguments');
		pool = testPool(database.url);
	});
	afterAll(async () => {
		await pool?.end();
		await database?.drop();
	});

	describe('a key with U+0000, which PostgreSQL text cannot hold (e.g. a callback with ?state=%00)', () => {
		it('is no entry to get and take, and nothing to delete', async () => {
			const store = new PostgresStore({ pool, table: uniqueName('nul') });
			await store.set('state', 'kept');
			for (const key of ['state\u0000', '\u0000', 'st\u0000ate']) {
				expect(await store.get(key)).toBeUndefined();
				expect(await store.take(key)).toBeUndefined();
				await store.delete(key);
			}
			expect(await store.get('state')).toBe('kept');
		});

		it('is refused by set with a TypeError naming the problem', async () => {
			const store = new PostgresStore({ pool, table: uniqueName('nul_set') });
			await expect(store.set('a\u0000b', 1)).rejects.toEqual(
				expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/key.*U\+0000/) }),
			);
		});

		it('is a lock name like any other: the lock hashes names and never sends them as text', async () => {
			const lock = createPostgresLock({ pool, waitMs: 0 });
			const result = await lock('a\u0000b', async () => {
				// the same name is held; another name (the one without U+0000) is not
				await expect(lock('a\u0000b', async () => 'twice')).rejects.toMatchObject({
					name: 'LockTimeoutError',
				});
				return lock('a', async () => 'other name');
			});
			expect(result).toBe('other name');
		});
	});

	it('refuses set options that are not an object (an expiry passed on its own), writing nothing', async () => {
		const table = uniqueName('setopts');
		const store = new PostgresStore({ pool, table });
		for (const [options, kind] of [
			[Date.now() - 1_000, 'number'],
			['x', 'string'],
			[null, 'null'],
		] as const) {
			await expect(store.set('k', 'v', options as never)).rejects.toThrow(
				new TypeError(`set(key, value, options) expects options such as { expiresAt }, got ${kind}`),
			);
		}
		await store.migrate();
		expect((await pool.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows).toEqual([{ n: 0 }]);
	});

	it('refuses lock names with a lone surrogate, which would share one lock key', async () => {
		const lock = createPostgresLock({ pool, prefix: uniqueName('surrogate') });
		await expect(lock('\ud800', async () => 1)).rejects.toThrow(/lone UTF-16 surrogate/);
		await expect(lock('\ud83d\ude00', async () => 1)).resolves.toBe(1);
	});

	describe('expiresAt', () => {
		it.each([1e16, -1e16, MAX_DATE + 1, 1e300, 2 ** 63])(
			'refuses %s (beyond any Date) with a TypeError naming it, writing nothing',
			async (expiresAt) => {
				const table = uniqueName('far');
				const store = new PostgresStore({ pool, table });
				await expect(store.set('a', 1, { expiresAt })).rejects.toEqual(
					expect.objectContaining({ name: 'TypeError', message: expect.stringContaining(String(expiresAt)) }),
				);
				await store.migrate();
				expect((await pool.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows).toEqual([{ n: 0 }]);
			},
		);

		it('keeps an entry until the largest time a Date holds, and takes the smallest as expired', async () => {
			const store = new PostgresStore({ pool, table: uniqueName('edge') });
			await store.set('far', 1, { expiresAt: MAX_DATE });
			expect(await store.get('far')).toBe(1);
			await store.set('past', 2, { expiresAt: -MAX_DATE });
			expect(await store.get('past')).toBeUndefined();
			expect(await store.take('past')).toBeUndefined();
		});
	});
});
