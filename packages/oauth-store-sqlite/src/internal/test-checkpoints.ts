import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../../test/checkpoint-child.mjs', import.meta.url));

/** waits, polling every 10 ms, until `condition` holds; throws after `ms`. */
export const until = async (condition: () => boolean, ms = 10_000): Promise<void> => {
	const end = Date.now() + ms;
	while (!condition()) {
		if (Date.now() > end) throw new Error('timed out waiting');
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
};

/**
 * the WAL index header in the -shm file (native byte order; x86 and arm64 are little-endian):
 * frames in the WAL (mxFrame) and how many a checkpoint has copied into the database (nBackfill).
 */
export const walState = (path: string): { frames: number; backfilled: number } => {
	const fd = openSync(`${path}-shm`, 'r');
	try {
		const header = Buffer.alloc(100);
		readSync(fd, header, 0, 100, 0);
		return { frames: header.readUInt32LE(16), backfilled: header.readUInt32LE(96) };
	} finally {
		closeSync(fd);
	}
};

/** a run of test/checkpoint-child.mjs: the process, its exit, and what it printed so far. */
export interface CheckpointChild {
	process: ReturnType<typeof spawn>;
	exit: Promise<[number | null, NodeJS.Signals | null]>;
	stdout: () => string;
	stderr: () => string;
}

/** runs test/checkpoint-child.mjs (the built package) in `mode`. */
export const checkpointChild = (path: string, mode: 'leave' | 'close' | 'forever'): CheckpointChild => {
	const process_ = spawn(process.execPath, [CHILD, path, mode], {
		cwd: PACKAGE_DIR,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let stdout = '';
	let stderr = '';
	process_.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
	process_.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
	const exit = once(process_, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
	return { process: process_, exit, stdout: () => stdout, stderr: () => stderr };
};
