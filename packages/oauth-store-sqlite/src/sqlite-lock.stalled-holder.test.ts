import { spawn } from 'node:child_process';
import { stat } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { lockFileEach } from './internal/test-lock-file.ts';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const HOLDER = fileURLToPath(new URL('../test/lock-holder-child.mjs', import.meta.url));

// long enough that a loaded machine's timer delays do not lose it before the stall
const LEASE_MS = 1_000;

// a holder whose event loop stalls past its lease (a long GC pause, a frozen VM or process) is
// resumed by an I/O callback (a fetch's answer) before its overdue renewal's timer runs. the
// client checks the lock's signal right then, before it sends a refresh token: it must already
// say the name is lost when another process took it over meanwhile
describe('createSqliteLock, a holder resumed after a stall past its lease', () => {
	const { path, open } = lockFileEach();

	it("aborts the holder's signal when read, in the very turn it resumes, once another process took the name", async () => {
		const lock = open({ lease: LEASE_MS });
		let stdout = '';
		let child: ReturnType<typeof spawn> | undefined;
		let exited: Promise<unknown> | undefined;
		try {
			const seen = await lock('did:plc:crashed0', async (signal) => {
				// another process waits for the name (the child's lock polls for it)
				child = spawn(process.execPath, [HOLDER, path(), '1', String(LEASE_MS)], {
					cwd: PACKAGE_DIR,
					stdio: ['ignore', 'pipe', 'inherit'],
				});
				exited = new Promise((resolve) => child!.once('exit', resolve));
				child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
				// while this holder renews, it waits
				await new Promise((resolve) => setTimeout(resolve, 2_000));
				const before = signal!.aborted;
				// resumed from an I/O callback, as by a fetch's answer
				await new Promise((resolve) => stat('.', resolve));
				// the event loop stalls past the lease; the other process takes the name over meanwhile
				Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3 * LEASE_MS);
				return { before, after: signal!.aborted };
			});
			// the other process did take the name during the stall
			await expect.poll(() => stdout, { timeout: 10_000, interval: 20 }).toBe('held\n');
			expect(seen).toEqual({ before: false, after: true });
		} finally {
			child?.kill('SIGKILL');
			await exited;
		}
	}, 30_000);
});
