import { spawn } from 'node:child_process';
import { stat } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import {
	connect,
	removeKeys,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from '../../oauth-store-redis/src/test-utils/redis-server.ts';
import { createRedisLock } from './create-redis-lock.ts';
import type { LeaseLostEvent } from './errors.ts';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const HOLDER = fileURLToPath(new URL('../test/fixtures/lock-holder-child.mjs', import.meta.url));

// long enough that a loaded machine's timer delays do not lose it before the stall
const LEASE_MS = 1_000;

// a holder whose event loop stalls past its lease (a long GC pause, a frozen VM or process) is
// resumed by an I/O callback (a fetch's answer) before its overdue renewal and lease watch run.
// the client checks the lock's signal right then, before it sends a refresh token: it must already
// say the name may be lost, since another process may have taken it meanwhile (Redis cannot be
// asked synchronously: no renewal confirmed for a whole lease counts as lost)
describe('createRedisLock, a holder resumed after a stall past its lease', () => {
	let server: TestRedis;
	let redis: Redis;
	let prefix: string;

	beforeAll(async () => {
		server = await useTestRedis();
		redis = connect(server.url);
		prefix = uniquePrefix('stalled');
	});
	afterAll(async () => {
		if (redis !== undefined) await removeKeys(redis, prefix);
		await redis?.quit();
		await server?.close();
	});

	afterEach(() => {
		vi.useRealTimers();
	});

	/**
	 * holds `name` while another process waits for it, then, resumed from an I/O callback, stalls
	 * the event loop past the lease; what the holder's signal said before and right after.
	 */
	const stallPastLease = async (name: string) => {
		const losses: LeaseLostEvent[] = [];
		const lock = createRedisLock({ redis, prefix, leaseMs: LEASE_MS, onLeaseLost: (e) => losses.push(e) });
		let stdout = '';
		let child: ReturnType<typeof spawn> | undefined;
		let exited: Promise<unknown> | undefined;
		try {
			const seen = await lock(name, async (signal) => {
				// another process waits for the name (its lock polls for it)
				child = spawn(process.execPath, [HOLDER, server.url, prefix, name, String(LEASE_MS)], {
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
			return { seen, reasons: losses.map((loss) => loss.reason) };
		} finally {
			child?.kill('SIGKILL');
			await exited;
		}
	};

	it("aborts the holder's signal when read, in the very turn it resumes, once another process took the name", async () => {
		const { seen, reasons } = await stallPastLease('did:plc:stalled');
		expect(seen).toEqual({ before: false, after: true });
		expect(reasons).toContain('unconfirmed');
	}, 30_000);

	// a suspended laptop (or a paused VM) stops the monotonic clock (performance.now()) while Redis's
	// lease runs out; on resume only the wall clock says how long it slept
	it("aborts the holder's signal when read after its machine slept past the lease, the monotonic clock stood still", async () => {
		vi.useFakeTimers({ toFake: ['performance'] });
		const { seen, reasons } = await stallPastLease('did:plc:slept');
		expect(seen).toEqual({ before: false, after: true });
		expect(reasons).toContain('unconfirmed');
	}, 30_000);
});
