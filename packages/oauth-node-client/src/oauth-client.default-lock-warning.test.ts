import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

// the default lock is one per JavaScript thread: a worker thread has its own globals and modules,
// a cluster worker is a process of its own. an app run as several of them on one session store
// (a SQLite file, Redis) with no requestLock spends a refresh token twice and its users are signed
// out, which nothing explained (oauth-store-sqlite's test/worker-threads-refresh.test.ts shows it
// with real threads). the client made there warns, once per thread.

const CHILD = fileURLToPath(new URL('./test-utils/default-lock-child.mjs', import.meta.url));
const WARNING = { name: 'DefaultLockWarning', code: 'ATCUTE_OAUTH_DEFAULT_LOCK' };

interface Report {
	warnings: Array<{ name: string; code: string }>;
}

/** runs the fixture (the built package) in a worker thread of this process. */
const inThread = (config: Record<string, unknown>): Promise<Report> =>
	new Promise((resolve, reject) => {
		// no test-runner flags: the thread imports the built package, as an app would
		const worker = new Worker(CHILD, { workerData: config, execArgv: [] });
		worker.once('message', (report: Report) => {
			resolve(report);
			void worker.terminate();
		});
		worker.once('error', reject);
		worker.once('exit', (code) => reject(new Error(`thread exited (${code}) before reporting`)));
	});

/** runs the fixture as a process of its own (a cluster primary with `cluster: true`). */
const inProcess = async (config: Record<string, unknown>): Promise<Report> => {
	const { stdout } = await promisify(execFile)(process.execPath, [CHILD], {
		env: { ...process.env, CHILD_CONFIG: JSON.stringify(config) },
		timeout: 20_000,
	});
	return JSON.parse(stdout.trim().split('\n').at(-1)!) as Report;
};

describe('a client made with no requestLock where the default lock covers one thread of the app', () => {
	it('warns once in a worker thread, however many clients it makes', { timeout: 20_000 }, async () => {
		const { warnings } = await inThread({ clients: 3 });
		expect(warnings).toEqual([WARNING]);
	});

	// a dev server (Vite, Next.js, tsx watch) evaluates the modules again on every edit: the flag
	// kept in a module-level variable was one per module instance, and each reload warned again
	it('warns once in a worker thread whose modules are evaluated again (hot reload)', {
		timeout: 20_000,
	}, async () => {
		const { warnings } = await inThread({ clients: 3, reload: true });
		expect(warnings).toEqual([WARNING]);
	});

	it('warns in a cluster worker', { timeout: 20_000 }, async () => {
		const { warnings } = await inProcess({ clients: 1, cluster: true });
		expect(warnings).toEqual([WARNING]);
	});

	it('does not warn in a worker thread given createMemoryLock(): its sessions are its own', {
		timeout: 20_000,
	}, async () => {
		const { warnings } = await inThread({ clients: 2, lock: 'memory' });
		expect(warnings).toEqual([]);
	});

	it('does not warn in a worker thread whose session store is a MemoryStore: its sessions are its own', {
		timeout: 20_000,
	}, async () => {
		const { warnings } = await inThread({ clients: 2, store: 'memory' });
		expect(warnings).toEqual([]);
	});

	it('does not warn on the main thread of a process that is no cluster worker', {
		timeout: 20_000,
	}, async () => {
		const { warnings } = await inProcess({ clients: 2 });
		expect(warnings).toEqual([]);
	});
});
