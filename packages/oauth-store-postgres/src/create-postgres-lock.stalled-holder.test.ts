import { spawn } from 'node:child_process';
import { stat } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { createPostgresLock } from './create-postgres-lock.ts';
import type { LeaseLostEvent } from './errors.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const WAITER = fileURLToPath(new URL('../test/fixtures/lock-waiter-child.mjs', import.meta.url));

// long enough that a loaded machine's timer delays do not end a live holder's session
const HEARTBEAT_MS = 1_000;
const SILENT_HOLDER_MS = 2_000;

// a holder whose event loop stalls past silentHolderMs (a long GC pause, a frozen VM or process)
// has its session ended by the server (idle_session_timeout), which frees the lock to another
// process. resumed by an I/O callback (a fetch's answer) before the server's FATAL is read off its
// connection, the client checks the lock's signal, right before it sends a refresh token: it must
// already say the lock may be lost
describe('createPostgresLock, a holder resumed after a stall past silentHolderMs', () => {
	let database: TestDatabase;
	let pool: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'lock_stalled');
		pool = testPool(database.url);
	});
	afterAll(async () => {
		await pool?.end();
		await database?.drop();
	});

	afterEach(() => {
		vi.useRealTimers();
	});

	/**
	 * holds a lock while another process waits for it, then, resumed from an I/O callback, stalls
	 * the event loop past silentHolderMs; what the holder's signal said before and right after.
	 */
	const stallPastSilence = async () => {
		const prefix = uniqueName('stalled');
		const losses: LeaseLostEvent[] = [];
		const lock = createPostgresLock({
			pool,
			prefix,
			heartbeatMs: HEARTBEAT_MS,
			silentHolderMs: SILENT_HOLDER_MS,
			// an unanswered heartbeat is not what this is about
			timeout: 20_000,
			onLeaseLost: (event) => losses.push(event),
		});
		let stdout = '';
		let child: ReturnType<typeof spawn> | undefined;
		let exited: Promise<unknown> | undefined;
		try {
			const seen = await lock('did:plc:stalled', async (signal) => {
				// another process waits for the lock
				child = spawn(process.execPath, [WAITER, database.url, prefix, 'did:plc:stalled'], {
					cwd: PACKAGE_DIR,
					stdio: ['ignore', 'pipe', 'inherit'],
				});
				exited = new Promise((resolve) => child!.once('exit', resolve));
				child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
				// while this holder heartbeats, it waits
				await new Promise((resolve) => setTimeout(resolve, 2_500));
				const before = signal!.aborted;
				// resumed from an I/O callback, as by a fetch's answer
				await new Promise((resolve) => stat('.', resolve));
				// the event loop stalls past silentHolderMs; the server ends the session, and the other
				// process takes the lock meanwhile
				Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3 * SILENT_HOLDER_MS);
				return { before, after: signal!.aborted };
			});
			// the other process did take the lock during the stall
			await expect.poll(() => stdout, { timeout: 10_000, interval: 20 }).toBe('held\n');
			return { seen, losses };
		} finally {
			child?.kill('SIGKILL');
			await exited;
		}
	};

	it("aborts the holder's signal when read, in the very turn it resumes, once another process took the lock", async () => {
		const { seen, losses } = await stallPastSilence();
		expect(seen).toEqual({ before: false, after: true });
		expect(losses).toHaveLength(1);
	}, 30_000);

	// a suspended laptop (or a paused VM) stops the monotonic clock (performance.now()) while the
	// server's idle_session_timeout runs; on resume only the wall clock says how long it slept
	it("aborts the holder's signal when read after its machine slept past silentHolderMs, the monotonic clock stood still", async () => {
		vi.useFakeTimers({ toFake: ['performance'] });
		const { seen, losses } = await stallPastSilence();
		expect(seen).toEqual({ before: false, after: true });
		expect(losses).toHaveLength(1);
	}, 30_000);
});
