import { afterEach, describe, expect, it } from 'vitest';

import { SqliteStore } from '../sqlite-store.ts';
import { checkpointWorker } from './checkpointer.ts';
import { checkpointChild, until, walState } from './test-checkpoints.ts';
import { tempDir } from './test-files.ts';
import { openRawDatabase } from './test-raw-database.ts';

// what holds on every driver: no worker when asked for none, a process that exits, and every
// committed write kept through a kill. the
// worker thread itself opens the file with better-sqlite3 (node:sqlite gets none): its tests are
// in checkpointer.better-sqlite3.test.ts

const payload = 'x'.repeat(3000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * stderr without the warning Node 22 prints when node:sqlite (the store's driver there) is loaded:
 * the runtime's, not the package's.
 */
const withoutSqliteWarning = (stderr: string): string =>
	stderr.replace(
		/^\(node:\d+\) ExperimentalWarning: SQLite is an experimental feature.*\n\(Use `node --trace-warnings \.\.\.` to show where the warning was created\)\n/m,
		'',
	);

describe('background WAL checkpoints', () => {
	let temp: ReturnType<typeof tempDir>;
	afterEach(() => temp?.remove());
	it('leaves checkpoints to SQLite on the caller thread with checkpointInterval 0 (none below 1,000 pages)', async () => {
		temp = tempDir();
		const path = temp.file();
		const store = new SqliteStore({ path, checkpointInterval: 0 });
		try {
			for (let i = 0; i < 200; i++) await store.set(`key-${i}`, { i, payload });
			await sleep(200);
			const { frames, backfilled } = walState(path);
			expect(frames).toBeGreaterThan(0);
			expect(backfilled).toBe(0);
			expect(checkpointWorker(path, 0)).toBeUndefined();
		} finally {
			store.close();
		}
	});

	it('lets a process exit with the store left open, or closed', async () => {
		temp = tempDir();
		for (const mode of ['leave', 'close'] as const) {
			const run = checkpointChild(temp.file(`${mode}.db`), mode);
			const timer = setTimeout(() => run.process.kill('SIGKILL'), 15_000);
			const [code, signal] = await run.exit;
			clearTimeout(timer);
			expect({ mode, code, signal, stderr: withoutSqliteWarning(run.stderr()) }).toEqual({
				mode,
				code: 0,
				signal: null,
				stderr: '',
			});
			expect(run.stdout()).toBe('written\n');
		}
	}, 40_000);

	it('keeps every committed write when the process is killed mid-writes (while its worker checkpoints, on a driver that has one)', async () => {
		temp = tempDir();
		const path = temp.file();
		const run = checkpointChild(path, 'forever');
		// 1,000 rows of 3 KB: with better-sqlite3, scores of the worker's passes (one a millisecond)
		// have run; with node:sqlite, SQLite's own checkpoints in a commit. (3,000 took
		// over 30 s once on the shared CI machine, with the worker's fsyncs competing)
		await until(() => Number(run.stdout().trim().split('\n').at(-1)) >= 1000, 45_000);
		run.process.kill('SIGKILL');
		await run.exit;
		const committed = Number(run.stdout().trim().split('\n').at(-1));
		const store = new SqliteStore({ path, table: 'oauth_sessions', checkpointInterval: 0 });
		try {
			for (let i = 0; i < committed; i++) expect(await store.get(`key-${i}`)).toEqual({ i, payload });
		} finally {
			store.close();
		}
		const database = openRawDatabase(path, { readonly: true });
		expect(database.pragma('integrity_check')).toBe('ok');
		database.close();
	}, 90_000);
});
