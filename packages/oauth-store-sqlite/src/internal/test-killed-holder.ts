import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { expect } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const HOLDER = fileURLToPath(new URL('../../test/lock-holder-child.mjs', import.meta.url));

/**
 * a crashed holder's rows in the lock file at `path`: a process (test/lock-holder-child.mjs, on the
 * built package) takes `count` names (`did:plc:crashed0`…) with `lease` ms leases, and is killed
 * (SIGKILL) once it holds them all, so nobody releases them.
 */
export const leaveKilledHolder = async (path: string, count: number, lease: number): Promise<void> => {
	const child = spawn(process.execPath, [HOLDER, path, String(count), String(lease)], {
		cwd: PACKAGE_DIR,
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const exited = once(child, 'exit');
	let stdout = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
	try {
		await expect.poll(() => stdout, { timeout: 15_000, interval: 20 }).toBe('held\n');
	} finally {
		child.kill('SIGKILL');
		await exited;
	}
};
