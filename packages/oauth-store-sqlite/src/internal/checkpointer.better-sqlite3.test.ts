import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { SqliteStore } from '../sqlite-store.ts';
import { checkpointInBackground, checkpointWorker } from './checkpointer.ts';
import { until, walState } from './test-checkpoints.ts';
import { tempDir } from './test-files.ts';

// better-sqlite3 only: the worker thread loads better-sqlite3 from its module file (DRIVER) to open
// the store's file too; node:sqlite connections get no worker. a Node on which better-sqlite3's
// addon does not load (22 and 24 here) leaves this file out

const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');
const payload = 'x'.repeat(3000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const pragma = (database: Database.Database, name: string): unknown =>
	database.pragma(name, { simple: true });

/** a WAL connection to `path` whose checkpoints a worker runs every millisecond. */
const walWithWorker = (path: string) => {
	const database = new Database(path);
	database.pragma('journal_mode = WAL');
	const release = checkpointInBackground(database, { path, driver: DRIVER, interval: 1, busyTimeout: 5000 });
	return { database, release };
};

describe('background WAL checkpoints', () => {
	let temp: ReturnType<typeof tempDir>;
	afterEach(() => temp?.remove());
	it('copies the WAL into the database from a worker thread, and the next write restarts the WAL', async () => {
		temp = tempDir();
		const path = temp.file();
		const store = new SqliteStore({ path, checkpointInterval: 10 });
		try {
			for (let i = 0; i < 200; i++) await store.set(`key-${i}`, { i, payload });
			await until(() => {
				const { frames, backfilled } = walState(path);
				return frames > 0 && backfilled === frames;
			});
			const before = walState(path).frames;
			await store.set('one-more', { payload });
			// written from the start of the WAL again, not appended past the copied frames
			expect(walState(path).frames).toBeLessThan(before);
			for (let i = 0; i < 200; i++) expect(await store.get(`key-${i}`)).toEqual({ i, payload });
		} finally {
			store.close();
		}
	});

	it('runs another pass when commits landed during one, so the tick leaves the whole WAL copied', async () => {
		temp = tempDir();
		const path = temp.file();
		const database = new Database(path);
		database.pragma('journal_mode = WAL');
		// a tick a second: what one tick leaves undone stays undone for the rest of the test
		const release = checkpointInBackground(database, {
			path,
			driver: DRIVER,
			interval: 1_000,
			busyTimeout: 5000,
		});
		try {
			database.exec('CREATE TABLE t (i INTEGER PRIMARY KEY, v TEXT NOT NULL)');
			const insert = database.prepare('INSERT INTO t (i, v) VALUES (?, ?)');
			// some 30 MB in the WAL: the tick's first pass takes tens of milliseconds to copy it
			database.transaction(() => {
				for (let i = 0; i < 10_000; i++) insert.run(i, payload);
			})();
			expect(walState(path).backfilled).toBe(0);
			// small commits, one every half millisecond, until that pass has ended: some land during it
			let i = 10_000;
			const end = Date.now() + 5_000;
			while (walState(path).backfilled === 0 && Date.now() < end) {
				insert.run(i++, 'small');
				const spin = performance.now() + 0.5;
				while (performance.now() < spin) {}
			}
			const { frames, backfilled } = walState(path);
			expect(backfilled).toBeGreaterThan(0);
			// the first pass copied the WAL as it was when it began, not the commits made during it
			expect(backfilled).toBeLessThan(frames);
			// well before the next tick: the same tick's further passes copied those too
			await sleep(300);
			const after = walState(path);
			expect(after.backfilled).toBe(after.frames);
		} finally {
			release();
			database.close();
		}
	});

	it('shares one worker between the stores of a file, stops it when the last closes, and closes last itself', async () => {
		temp = tempDir();
		const path = temp.file();
		const sessions = new SqliteStore({ path, table: 'sessions', checkpointInterval: 10 });
		const states = new SqliteStore({ path, table: 'states', checkpointInterval: 10 });
		const worker = checkpointWorker(path, 10);
		expect(worker).toBeDefined();
		const exited = once(worker!, 'exit');
		await sessions.set('a', { payload });
		await states.set('b', { payload });
		sessions.close();
		expect(checkpointWorker(path, 10)).toBe(worker);
		expect(await states.get('b')).toEqual({ payload });
		states.close();
		expect(checkpointWorker(path, 10)).toBeUndefined();
		// the worker closed its connection first: the store's, closing last, checkpointed and
		// removed the WAL before close() returned
		expect(existsSync(`${path}-wal`)).toBe(false);
		await exited;
		const reopened = new SqliteStore({ path, table: 'sessions', checkpointInterval: 0 });
		expect(await reopened.get('a')).toEqual({ payload });
		reopened.close();
	});

	it('goes back to checkpoints on the caller thread when the worker dies, and loses no write', async () => {
		temp = tempDir();
		const path = temp.file();
		const { database, release } = walWithWorker(path);
		database.exec('CREATE TABLE t (i INTEGER PRIMARY KEY, v TEXT NOT NULL)');
		const insert = database.prepare('INSERT INTO t (i, v) VALUES (?, ?)');
		try {
			expect(pragma(database, 'wal_autocheckpoint')).toBe(0);
			const worker = checkpointWorker(path, 1)!;
			const exited = once(worker, 'exit');
			let i = 0;
			for (; i < 300; i++) insert.run(i, payload);
			// killed wherever it is, mid-checkpoint or not
			await worker.terminate();
			await exited;
			for (; i < 600; i++) insert.run(i, payload);
			expect(checkpointWorker(path, 1)).toBeUndefined();
			// SQLite's own checkpoints again
			expect(pragma(database, 'wal_autocheckpoint')).toBe(1000);
		} finally {
			release();
			database.close();
		}
		const reopened = new Database(path, { readonly: true });
		expect(pragma(reopened, 'integrity_check')).toBe('ok');
		expect(reopened.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 600 });
		reopened.close();
	});

	it('never makes a new, empty file when the store file was deleted before its worker opened it', async () => {
		temp = tempDir();
		const path = temp.file();
		const { database, release } = walWithWorker(path);
		try {
			const worker = checkpointWorker(path, 1)!;
			// its failure to open is an 'error' event, which once() would reject on
			const exited = new Promise((resolve) => worker.once('exit', resolve));
			// gone before the worker thread has started
			rmSync(path);
			rmSync(`${path}-wal`, { force: true });
			rmSync(`${path}-shm`, { force: true });
			await exited;
			expect(existsSync(path)).toBe(false);
			// the connection checkpoints on its own thread again
			expect(pragma(database, 'wal_autocheckpoint')).toBe(1000);
		} finally {
			release();
			database.close();
		}
	});
});
