import { describe, expect, it, vi } from 'vitest';

import { tempFileEach } from './internal/test-files.ts';
import { openRawDatabase } from './internal/test-raw-database.ts';
import { SqliteStore } from './sqlite-store.ts';

// better-sqlite3 only: the pause between bursts waits for the checkpoint worker, which only a
// better-sqlite3 connection has (see purgePause in internal/purge-pacing.ts); on node:sqlite
// (Node 22 and 24 here) SQLite checkpoints inline and the purge rightly runs without pauses

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("SqliteStore's purge of a backlog, paced for the checkpoint worker", () => {
	let path: string;
	const toClose = tempFileEach((file) => {
		path = file;
	});
	it('runs 32 full steps, then waits a little over checkpointInterval; close() during the wait ends the purge', async () => {
		let now = 1_700_000_000_000;
		const store = new SqliteStore({
			path,
			now: () => now,
			purgeInterval: 1,
			purgeLimit: 1,
			// a pause (1.5 s) longer than a loaded machine stalls a burst: a quiet gap as long as the pause
			// starts a new burst, and with 200 (a 300 ms pause) a 300 ms stall mid-burst ran 48 steps
			checkpointInterval: 1_000,
		});
		toClose.push(store);
		for (let i = 0; i < 100; i++) await store.set(`k-${i}`, i, { expiresAt: now + 1 });
		// the steps those writes started found nothing expired
		await sleep(20);
		const reader = openRawDatabase(path, { readonly: true });
		toClose.push(reader);
		const count = () => (reader.prepare('SELECT count(*) AS n FROM oauth_store').get() as { n: number }).n;

		now += 10;
		await store.set('live', 1);
		// one burst: 32 steps of one row each
		await vi.waitFor(() => expect(count()).toBe(101 - 32));
		// the pause (1.5 s) holds the next burst back
		await sleep(100);
		expect(count()).toBe(101 - 32);
		store.close();
		await sleep(400);
		expect(count()).toBe(101 - 32);
	});

	it('runs one burst per pause for every store on the file: two stores with a backlog delete 32 rows between them, then wait out the pause', async () => {
		let now = 1_700_000_000_000;
		const tables = ['sessions', 'states'];
		const stores = tables.map(
			(table) =>
				new SqliteStore({
					path,
					table,
					now: () => now,
					purgeInterval: 1,
					purgeLimit: 1,
					checkpointInterval: 1_000,
				}),
		);
		toClose.push(...stores);
		for (const store of stores) {
			for (let i = 0; i < 100; i++) await store.set(`k-${i}`, i, { expiresAt: now + 1 });
		}
		// the steps those writes started found nothing expired
		await sleep(20);
		const reader = openRawDatabase(path, { readonly: true });
		toClose.push(reader);
		const count = () =>
			tables.reduce(
				(sum, table) => sum + (reader.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n,
				0,
			);

		now += 10;
		for (const store of stores) await store.set('live', 1);
		// one burst for the file: 32 steps of one row, by the two stores together (32 each before)
		await vi.waitFor(() => expect(count()).toBe(202 - 32));
		// the pause (1.5 s) holds back both stores, not only the one whose step ended the burst
		await sleep(100);
		expect(count()).toBe(202 - 32);
		// then the next burst, and no more until the pause after it
		await vi.waitFor(() => expect(count()).toBe(202 - 64), { timeout: 5_000 });
		await sleep(100);
		expect(count()).toBe(202 - 64);
	});
});
