import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { tempDir } from './internal/test-files.ts';
import { SqliteStore } from './sqlite-store.ts';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const WORKER = fileURLToPath(new URL('../test/cross-process-worker.mjs', import.meta.url));
const PROCESSES = 4;
const KEYS = 200;
const INCREMENTS = 10;

interface WorkerResult {
	worker: string;
	taken: string[];
	errors: { name?: string; code?: string; message?: string }[];
}

/** a child process running the worker; resolves once it is ready for "go". */
const startWorker = (path: string, worker: number) => {
	const child = spawn(process.execPath, [WORKER, path, String(worker), String(KEYS), String(INCREMENTS)], {
		cwd: PACKAGE_DIR,
		stdio: ['pipe', 'pipe', 'pipe'],
	});
	let stdout = '';
	let stderr = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
	const ready = new Promise<void>((resolve, reject) => {
		child.stdout.on('data', () => stdout.startsWith('ready\n') && resolve());
		child.on('exit', (code) =>
			reject(new Error(`worker ${worker} exited (${code}) before ready: ${stderr}`)),
		);
	});
	const done = new Promise<WorkerResult>((resolve, reject) => {
		child.on('exit', (code) => {
			if (code !== 0) return reject(new Error(`worker ${worker} exited with ${code}: ${stderr}`));
			resolve(JSON.parse(stdout.slice('ready\n'.length)) as WorkerResult);
		});
	});
	return { ready, done, go: () => child.stdin.end('go\n'), kill: () => child.kill() };
};

describe('SqliteStore and createSqliteLock across processes', () => {
	let temp: ReturnType<typeof tempDir>;

	// the children run the built package, which the root vitest globalSetup builds before any test

	afterEach(() => temp?.remove());

	it(`gives each state to exactly one of ${PROCESSES} processes, keeps every write, and never lets SQLITE_BUSY out`, async () => {
		temp = tempDir();
		const path = temp.file();
		const states = new SqliteStore({ path, table: 'oauth_states' });
		for (let i = 0; i < KEYS; i++) {
			await states.set(`state-${i}`, { i }, { expiresAt: Date.now() + 600_000 });
		}

		const workers = Array.from({ length: PROCESSES }, (_, i) => startWorker(path, i));
		try {
			await Promise.all(workers.map((worker) => worker.ready));
			for (const worker of workers) worker.go();
			const results = await Promise.all(workers.map((worker) => worker.done));

			expect(results.flatMap((result) => result.errors)).toEqual([]);
			const taken = results.flatMap((result) => result.taken).sort();
			expect(taken).toEqual(Array.from({ length: KEYS }, (_, i) => `state-${i}`).sort());

			const sessions = new SqliteStore({ path, table: 'oauth_sessions' });
			for (let worker = 0; worker < PROCESSES; worker++) {
				for (let i = 0; i < 50; i++) {
					expect(await sessions.get(`did:plc:w${worker}-${i}`)).toEqual({ worker: String(worker), i });
				}
			}
			const shared = (await sessions.get('did:plc:shared')) as { worker: string; i: number; payload: string };
			expect(shared.payload).toBe(shared.worker.repeat(4096));
			// every increment happened under the lock: none was lost to an overlapping holder
			expect(await sessions.get('counter')).toBe(PROCESSES * INCREMENTS);
			sessions.close();
		} finally {
			for (const worker of workers) worker.kill();
			states.close();
		}
	}, 60_000);
});
