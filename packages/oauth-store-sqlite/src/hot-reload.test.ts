import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterEach, describe, expect, it } from 'vitest';

import { tempDir } from './internal/test-files.ts';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('../test/reload-child.mjs', import.meta.url));

interface Counts {
	/** stores and locks dropped unclosed, still alive after a full garbage collection. */
	dropped: number;
	threads: number;
	fds: number;
}

/** a child process that reloads the built package `reloads` times, dropping each round's stores unclosed. */
const reloadTimes = async (path: string, reloads: number): Promise<Counts> => {
	const { stdout } = await promisify(execFile)(
		process.execPath,
		['--expose-gc', CHILD, path, String(reloads)],
		{
			cwd: PACKAGE_DIR,
		},
	);
	return JSON.parse(stdout) as Counts;
};

// a dev server (Next.js, Vite, tsx watch) evaluates the app's modules again on every edit, and
// with them a new SqliteStore and lock; the old ones are dropped, never closed
describe('stores dropped without close() across module reloads', () => {
	let temp: ReturnType<typeof tempDir>;
	afterEach(() => temp?.remove());

	it('are collected and closed, and their checkpoint worker threads end', { timeout: 90_000 }, async () => {
		temp = tempDir();
		const few = await reloadTimes(temp.file(), 10);
		const many = await reloadTimes(temp.file(), 30);
		// the timers of a store whose table holds rows with an expiry kept it alive, and the
		// checkpoint worker kept every connection it served
		expect(few.dropped).toBe(0);
		expect(many.dropped).toBe(0);
		// one checkpoint worker per reload stayed, each a thread with its own connection
		expect(many.threads - few.threads).toBeLessThanOrEqual(2);
		// (file descriptors are not compared: SQLite keeps a closed connection's until the file's
		// last connection in the process closes, for the next connection it opens to take up, so
		// their count follows how many stores were open at once, not how many were made)
	});
});
