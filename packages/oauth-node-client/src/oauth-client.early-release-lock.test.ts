import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

// a requestLock that returns before the function it was given has finished (it calls fn() without
// returning or awaiting its promise) fails the call with a TypeError, as documented. the function
// still runs, outside the lock, and what it throws then (its write refused for the lost hold, the
// store down) reached nobody: an unhandled rejection, which ends a Node process (>= 15). the app
// runs as a process of its own on the built package, so a crash is its real exit code

const CHILD = fileURLToPath(new URL('./test-utils/early-release-lock-child.mjs', import.meta.url));

interface Outcome {
	code: number | null;
	stdout: string;
	stderr: string;
}

const runApp = (): Promise<Outcome> =>
	new Promise((resolve) => {
		const child = execFile(process.execPath, [CHILD], { timeout: 20_000 }, (_err, stdout, stderr) =>
			resolve({ code: child.exitCode, stdout, stderr }),
		);
	});

describe('a requestLock that lets go before its function has finished', () => {
	it('fails the call with a TypeError, and the function failing later does not end the process', {
		timeout: 30_000,
	}, async () => {
		const { code, stdout, stderr } = await runApp();
		expect(stderr).not.toContain('the session database is down');
		expect(stdout.trim()).toBe(JSON.stringify({ outcome: 'TypeError' }));
		expect(code).toBe(0);
	});
});
