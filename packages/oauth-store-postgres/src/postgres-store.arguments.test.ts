import { randomBytes } from 'node:crypto';

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

	describe('get(key, { signal })', () => {
		/** a signal as a polyfill makes one: no AbortSignal, no throwIfAborted, no reason. */
		class PolyfillSignal extends EventTarget {
			aborted = false;
			abort(): void {
				this.aborted = true;
				this.dispatchEvent(new Event('abort'));
			}
		}

		const tableExists = async (table: string): Promise<boolean> =>
			(await pool.query('SELECT to_regclass($1) IS NOT NULL AS found', [`"${table}"`])).rows[0].found;

		it.each([
			[new AbortController(), 'AbortController'],
			['abort', 'string'],
			[{ aborted: 'no' }, 'object'],
			[{ aborted: false }, 'object'],
			[Symbol('signal'), 'symbol'],
		])('refuses %s with a TypeError naming signal, before any query', async (signal, got) => {
			const table = uniqueName('signal');
			const store = new PostgresStore({ pool, table });
			const attempt = store.get('k', { signal: signal as never });
			await expect(attempt).rejects.toThrow(
				new TypeError(`signal must be an AbortSignal (pass controller.signal), got ${got}`),
			);
			// not even the migration ran
			expect(await tableExists(table)).toBe(false);
		});

		it('takes null and undefined as no signal', async () => {
			const store = new PostgresStore({ pool, table: uniqueName('nosignal') });
			await store.set('k', 1);
			expect(await store.get('k', { signal: null as never })).toBe(1);
			expect(await store.get('k', { signal: undefined })).toBe(1);
			expect(await store.get('k', null as never)).toBe(1);
		});

		it("takes a polyfill's signal (no throwIfAborted, no reason), and gives up when it aborts", async () => {
			const table = uniqueName('polyfill');
			const store = new PostgresStore({ pool, table });
			await store.set('k', 1);
			expect(await store.get('k', { signal: new PolyfillSignal() as never })).toBe(1);

			const aborted = new PolyfillSignal();
			aborted.abort();
			await expect(store.get('k', { signal: aborted as never })).rejects.toMatchObject({
				name: 'AbortError',
			});

			// a get that waits behind a lock on the table, given up on when the signal aborts
			const holder = await pool.connect();
			try {
				await holder.query('BEGIN');
				await holder.query(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
				const signal = new PolyfillSignal();
				const waiting = store.get('k', { signal: signal as never });
				setTimeout(() => signal.abort(), 50);
				await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
			} finally {
				await holder.query('ROLLBACK');
				holder.release();
			}
		});
	});

	describe('keys over 2,048 bytes of UTF-8, past which the primary key may refuse the row', () => {
		/** an incompressible ASCII key of `bytes` bytes: PostgreSQL would compress a repetitive one. */
		const randomKey = (bytes: number): string => randomBytes(bytes).toString('base64url').slice(0, bytes);

		it.each([
			['2,049 ASCII bytes', randomKey(2_049), 2_049],
			['2,049 bytes of 3-byte characters', '€'.repeat(683), 2_049],
			['2,693 bytes, which PostgreSQL refuses', randomKey(2_693), 2_693],
			['1 MB', randomKey(1_000_000), 1_000_000],
		])(
			'are refused by set (%s) with a TypeError naming the length, not the key, writing nothing',
			async (_, key, bytes) => {
				expect(Buffer.byteLength(key)).toBe(bytes);
				const table = uniqueName('longkey');
				const store = new PostgresStore({ pool, table });
				const error = await store.set(key, 1).catch((err: unknown) => err);
				expect(error).toEqual(new TypeError(`key must be at most 2048 bytes in UTF-8, got ${bytes} bytes`));
				expect((error as Error).message).not.toContain(key.slice(0, 16));
				// refused before any query: not even the migration ran
				expect(
					(await pool.query('SELECT to_regclass($1) AS found', [`"${table}"`])).rows[0].found,
				).toBeNull();
			},
		);

		it('are taken up to 2,048 bytes, incompressible or in 4-byte characters', async () => {
			const store = new PostgresStore({ pool, table: uniqueName('maxkey') });
			for (const key of [randomKey(2_048), '😀'.repeat(512), `${'€'.repeat(682)}${randomKey(2)}`]) {
				expect(Buffer.byteLength(key)).toBe(2_048);
				await store.set(key, key.length, { expiresAt: Date.now() + 60_000 });
				expect(await store.get(key)).toBe(key.length);
				expect(await store.take(key)).toBe(key.length);
			}
		});

		it("are no entry to get and take, and nothing to delete (a callback's ?state= may be anything)", async () => {
			const store = new PostgresStore({ pool, table: uniqueName('readlong') });
			await store.set('kept', 1);
			const key = randomKey(5_000);
			expect(await store.get(key)).toBeUndefined();
			expect(await store.take(key)).toBeUndefined();
			await store.delete(key);
			expect(await store.get('kept')).toBe(1);
		});
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
