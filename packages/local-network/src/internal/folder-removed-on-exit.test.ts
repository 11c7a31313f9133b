import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { folderRemovedOnExit } from './folder-removed-on-exit.ts';

const dirs: string[] = [];
/** every writer started: one left running (a test cut short) would load the machine for good. */
const writers: ChildProcess[] = [];
afterEach(async () => {
	for (const writer of writers.splice(0)) {
		if (writer.exitCode === null && writer.signalCode === null) {
			writer.kill('SIGKILL');
			await once(writer, 'exit');
		}
	}
	for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * a process whose threads create `dir/a<i>/b/f` over and over, as fast as they can: as the PDS's
 * writes (its blob store's `mkdir -p`) run on the thread pool, not on its main thread.
 */
const startWriter = async (dir: string) => {
	// each worker thread: mkdir -p and a write, in a loop (the main thread only waits)
	const work =
		"const fs = require('node:fs'); const dir = require('node:worker_threads').workerData;" +
		" for (let i = 0; ; i++) { fs.mkdirSync(dir + '/a' + (i % 8) + '/b', { recursive: true });" +
		" fs.writeFileSync(dir + '/a' + (i % 8) + '/b/f', 'x'); }";
	const main = `const { Worker } = require('node:worker_threads');
		for (let i = 0; i < 3; i++) new Worker(${JSON.stringify(work)}, { eval: true, workerData: process.argv[1] });`;
	const writer = spawn(process.execPath, ['-e', main, dir], { stdio: 'ignore' });
	writers.push(writer);
	for (let i = 0; !existsSync(join(dir, 'a1', 'b', 'f')); i++) {
		if (i === 2_000) throw new Error('the writer wrote nothing in 10 s');
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
	return writer;
};

/** the process's state letter from /proc (Z: dead, not yet reaped). */
const processState = (pid: number): string => {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	return stat.charAt(stat.lastIndexOf(')') + 2);
};

/** how many of the process's threads are left. */
const threads = (pid: number): number => readdirSync(`/proc/${pid}/task`).length;

describe('folderRemovedOnExit', () => {
	it('kills the processes writing into the folder, and waits for their deaths, before removing it', async () => {
		// a writer killed but not waited for may finish its mkdir after the removal: many rounds
		for (let round = 0; round < 8; round++) {
			const dir = mkdtempSync(join(tmpdir(), 'folder-removed-on-exit-'));
			dirs.push(dir);
			const folder = folderRemovedOnExit(dir);
			const writer = await startWriter(dir);
			const exited = once(writer, 'exit');
			folder.track(writer);
			folder.removeNow();
			// dead before removeNow returned: nothing it was doing can still land in the folder
			expect(processState(writer.pid!), `round ${round}: the writer right after`).toBe('Z');
			expect(threads(writer.pid!), `round ${round}: the writer's threads right after`).toBeLessThanOrEqual(1);
			expect(existsSync(dir), `round ${round}: the folder right after`).toBe(false);
			const [, signal] = await exited;
			expect(signal).toBe('SIGKILL');
			await new Promise((resolve) => setTimeout(resolve, 20));
			expect(existsSync(dir), `round ${round}: the folder once the writer is gone`).toBe(false);
		}
		// each round starts a Node process with threads: seconds on a loaded machine
	}, 30_000);

	it('is no longer on exit once removed', () => {
		const dir = mkdtempSync(join(tmpdir(), 'folder-removed-on-exit-'));
		dirs.push(dir);
		const before = process.listenerCount('exit');
		const folder = folderRemovedOnExit(dir);
		expect(process.listenerCount('exit')).toBe(before + 1);
		folder.removeNow();
		expect(process.listenerCount('exit')).toBe(before);
		expect(existsSync(dir)).toBe(false);
	});
});
