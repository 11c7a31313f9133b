import { createRequire } from 'node:module';

import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { tempDir } from './internal/test-files.ts';
import { SqliteStore } from './sqlite-store.ts';

const BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3') as typeof Database;

describe('SqliteStore over a given database that reads integers as BigInt (defaultSafeIntegers)', () => {
	let temp: ReturnType<typeof tempDir>;
	const toClose: { close(): unknown }[] = [];
	beforeEach(() => {
		temp = tempDir();
	});
	afterEach(() => {
		for (const handle of toClose.splice(0)) handle.close();
		temp.remove();
	});

	/** a connection with no busy timeout, as node:sqlite opens one (better-sqlite3 with `timeout: 0`). */
	const withoutBusyTimeout = (safeIntegers: boolean) => {
		const database = new BetterSqlite3(temp.file(`${safeIntegers}.db`), { timeout: 0 });
		database.defaultSafeIntegers(safeIntegers);
		toClose.push(database);
		return database;
	};

	it('gives it the busy timeout it has none of, as it does a connection that reads numbers', () => {
		const plain = withoutBusyTimeout(false);
		toClose.push(new SqliteStore({ database: plain }));
		expect(Number(plain.pragma('busy_timeout', { simple: true }))).toBe(5000);

		const safe = withoutBusyTimeout(true);
		toClose.push(new SqliteStore({ database: safe }));
		expect(Number(safe.pragma('busy_timeout', { simple: true }))).toBe(5000);
	});

	it('reads, writes, takes and expires entries on it', async () => {
		const database = withoutBusyTimeout(true);
		const store = new SqliteStore<string, unknown>({ database });
		toClose.push(store);
		await store.set('a', { n: 1 });
		expect(await store.get('a')).toEqual({ n: 1 });
		await store.set('s', { n: 2 }, { expiresAt: Date.now() + 60_000 });
		expect(await store.take('s')).toEqual({ n: 2 });
		expect(await store.take('s')).toBeUndefined();
		await store.set('old', { n: 3 }, { expiresAt: Date.now() - 1 });
		expect(await store.get('old')).toBeUndefined();
		expect(await store.purge()).toBeTypeOf('number');
	});
});
