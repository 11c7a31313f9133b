import { statSync } from 'node:fs';

import { describe, expect, it, vi } from 'vitest';

import { tempFileEach } from './internal/test-files.ts';
import { openRawDatabase } from './internal/test-raw-database.ts';
import { SqliteStore } from './sqlite-store.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** rows expired in the past, written straight into `table` of `path` in one transaction. */
const expiredBacklog = (path: string, table: string, rows: number): void => {
	// the store makes the table (and records it), then lets go of the file
	new SqliteStore({ path, table, checkpointInterval: 0 }).close();
	const database = openRawDatabase(path);
	try {
		// about the size of an authorization state
		const value = JSON.stringify({
			iss: 'x'.repeat(200),
			verifier: 'y'.repeat(64),
			dpopKey: 'z'.repeat(300),
		});
		const insert = database.prepare(`INSERT INTO ${table} (key, value, expires_at) VALUES (?, ?, ?)`);
		const past = Date.now() - 1_000;
		database.exec('BEGIN');
		for (let i = 0; i < rows; i++) insert.run(`state-${i}`, value, past - i);
		database.exec('COMMIT');
		// the backlog starts in the database file, with an empty WAL
		database.pragma('wal_checkpoint(TRUNCATE)');
	} finally {
		database.close();
	}
};

describe("SqliteStore's purge of a backlog", () => {
	let path: string;
	const toClose = tempFileEach((file) => {
		path = file;
	});

	it('pauses between bursts so the checkpoint worker lets the WAL start over: 20,000 expired rows, the WAL stays under 40 MB', async () => {
		expiredBacklog(path, 'states', 20_000);
		// the default checkpointInterval (100 ms): a worker checkpoints the file (on better-sqlite3;
		// on node:sqlite SQLite checkpoints inline, and the bound holds as well)
		const store = new SqliteStore({ path, table: 'states', purgeInterval: 1 });
		toClose.push(store);
		const reader = openRawDatabase(path, { readonly: true });
		toClose.push(reader);
		const expired = () =>
			(
				reader.prepare('SELECT count(*) AS n FROM states WHERE expires_at <= ?').get(Date.now()) as {
					n: number;
				}
			).n;
		const walSize = () => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;

		let maxWal = 0;
		let left = expired();
		expect(left).toBe(20_000);
		// the app keeps serving meanwhile: a set every few milliseconds (the first starts the purge)
		const deadline = performance.now() + 15_000;
		for (let i = 0; left > 0 && performance.now() < deadline; i++) {
			await store.set(`live-${i % 100}`, { i }, { expiresAt: Date.now() + 600_000 });
			maxWal = Math.max(maxWal, walSize());
			await sleep(5);
			if (i % 20 === 0) left = expired();
		}
		// the WAL file keeps its largest size until the last connection closes: this is the peak
		maxWal = Math.max(maxWal, walSize());

		expect(expired()).toBe(0);
		// with steps chained back to back it passed 80 MB (no checkpoint pass ever finished), and
		// 57 MB with the pauses but a worker that stopped after a pass that met commits. paced: 5-6 MB
		// on a quiet machine, up to 16 MB beside other test files; the bound leaves room for that load
		// (the sharing between stores on one file is counted exactly in
		// sqlite-store.purge-pacing.better-sqlite3.test.ts)
		expect(maxWal).toBeLessThan(40 * 1024 * 1024);
	}, 30_000);

	it('purges a backlog to the end on a given database, whose checkpoints stay with SQLite', async () => {
		let now = 1_700_000_000_000;
		const database = openRawDatabase(path);
		database.pragma('journal_mode = WAL');
		toClose.push(database);
		const store = new SqliteStore({
			database: database.connection,
			now: () => now,
			purgeInterval: 1,
			purgeLimit: 1,
		});
		toClose.unshift(store);
		for (let i = 0; i < 100; i++) await store.set(`k-${i}`, i, { expiresAt: now + 1 });
		await sleep(20);
		const count = () => (database.prepare('SELECT count(*) AS n FROM oauth_store').get() as { n: number }).n;

		now += 10;
		await store.set('live', 1);
		await vi.waitFor(() => expect(count()).toBe(1), { timeout: 5_000 });
	});
});
