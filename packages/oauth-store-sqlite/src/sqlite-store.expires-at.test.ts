import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { tempDir } from './internal/test-files.ts';
import { openRawDatabase } from './internal/test-raw-database.ts';
import { SqliteStore } from './sqlite-store.ts';

/** the largest time a Date can hold, in milliseconds since the epoch. */
const MAX_DATE = 8.64e15;

describe("SqliteStore's expiresAt range", () => {
	let temp: ReturnType<typeof tempDir>;
	let store: SqliteStore;

	beforeEach(() => {
		temp = tempDir();
		store = new SqliteStore({ path: temp.file() });
	});
	afterEach(() => {
		store.close();
		temp.remove();
	});

	it.each([2 ** 63, 9.3e18, 1e300, 1e16, MAX_DATE + 1, -1e16])(
		'refuses %s (beyond any Date) with a TypeError naming it, writing nothing',
		async (expiresAt) => {
			await expect(store.set('a', 1, { expiresAt })).rejects.toEqual(
				expect.objectContaining({ name: 'TypeError', message: expect.stringContaining(String(expiresAt)) }),
			);
			const raw = openRawDatabase(temp.file());
			try {
				expect(raw.prepare('SELECT count(*) AS n FROM oauth_store').get()).toEqual({ n: 0 });
			} finally {
				raw.close();
			}
		},
	);

	it('keeps an entry until the largest time a Date holds, and takes the smallest as expired', async () => {
		await store.set('far', 1, { expiresAt: MAX_DATE });
		expect(await store.get('far')).toBe(1);
		await store.set('past', 2, { expiresAt: -MAX_DATE });
		expect(await store.get('past')).toBeUndefined();
		expect(await store.purge()).toBe(1);
	});
});
