import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** how a child process told to stop came to an end. */
export interface ExitAfterSigterm {
	/** its exit code, or 'still running' when it had not exited within the bound (then killed). */
	result: number | null | 'still running';
	/** what it wrote, for the assertion's message. */
	stdout: string;
	stderr: string;
	/** its standard output read as one JSON value per line. */
	lines: () => unknown[];
}

/**
 * runs `script` with `args` under this Node, sends it SIGTERM once it prints a line holding
 * `"ready"`, and waits up to `boundMs` for it to exit by itself: a graceful shutdown that the work
 * left running keeps alive fails the bound (the child is then killed).
 */
export const exitAfterSigterm = async (
	script: string,
	args: string[],
	boundMs = 10_000,
): Promise<ExitAfterSigterm> => {
	const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (chunk) => {
		stdout += chunk;
		if (stdout.includes('"ready"') && !child.killed) child.kill('SIGTERM');
	});
	child.stderr.on('data', (chunk) => {
		stderr += chunk;
	});
	const exited = once(child, 'exit');
	const bound = new Promise<'still running'>((resolve) => {
		const timer = setTimeout(() => resolve('still running'), boundMs);
		exited.finally(() => clearTimeout(timer));
	});
	const result = await Promise.race([exited.then(([code]) => code as number | null), bound]);
	if (result === 'still running') child.kill('SIGKILL');
	return {
		result,
		stdout,
		stderr,
		lines: () =>
			stdout
				.trim()
				.split('\n')
				.map((line) => JSON.parse(line)),
	};
};
