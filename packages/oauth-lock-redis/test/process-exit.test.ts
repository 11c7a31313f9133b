import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type SpawnedRedis, spawnRedisServer } from './support/siblings.ts';

const CHILD = fileURLToPath(new URL('./fixtures/redis-gone-child.mjs', import.meta.url));
/** the child's command timeout: long, so a timer that waits it out cannot pass for a prompt exit. */
const COMMAND_TIMEOUT_MS = 20_000;

/** what the child reports once it has disconnected (see fixtures/redis-gone-child.mjs). */
interface Report {
	statusAtEnd: string;
	pending: number;
	held: string[];
}

/** runs the child; its report, and whether it exited within `exitWithinMs` of reporting. */
const runChild = (config: Record<string, unknown>, exitWithinMs: number) =>
	new Promise<{ report: Report; exitedInTime: boolean }>((resolve, reject) => {
		const child = spawn(process.execPath, [CHILD], {
			env: { ...process.env, CHILD_CONFIG: JSON.stringify(config) },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		let report: Report | undefined;
		let timer: ReturnType<typeof setTimeout> | undefined;
		child.stderr.on('data', (chunk: Buffer) => {
			stderr += chunk.toString();
		});
		child.stdout.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
			if (report !== undefined || !stdout.includes('\n')) return;
			report = JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as Report;
			// the child has nothing left to do but exit
			timer = setTimeout(() => child.kill('SIGKILL'), exitWithinMs);
		});
		child.once('error', reject);
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			if (report === undefined) {
				reject(new Error(`the child exited (${signal ?? code}) without a report: ${stderr}`));
				return;
			}
			resolve({ report, exitedInTime: signal === null });
		});
	});

// a server of our own, even in CI: the child kills it
describe('an app whose Redis died while it held a lock', () => {
	let server: SpawnedRedis;

	beforeAll(async () => {
		server = await spawnRedisServer();
	});
	afterAll(() => server?.close());

	it('exits once it disconnects, without waiting out the background commands of the lock', {
		timeout: 60_000,
	}, async () => {
		const { report, exitedInTime } = await runChild(
			{ redisUrl: server.url, redisPid: server.pid, timeout: COMMAND_TIMEOUT_MS },
			COMMAND_TIMEOUT_MS / 2,
		);
		// the release went late (Redis away), and it and a renewal were still waiting for Redis
		expect(report.statusAtEnd).not.toBe('ready');
		expect(report.pending).toBeGreaterThanOrEqual(2);
		// none of their timers keeps the process alive: nobody awaits those commands
		expect(report.held).toEqual([]);
		// ioredis's own timers take ~2 s after a disconnect; a command's deadline would take 20 s
		expect(exitedInTime).toBe(true);
	});
});
