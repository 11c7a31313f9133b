import { spawn } from 'node:child_process';

/** what a finished child process printed. */
export interface Finished {
	code: number | null;
	stdout: string;
	stderr: string;
}

/** runs `file` (a script or an executable) with `args` and `env` added, to completion. */
export const run = (file: string, args: string[], env: Record<string, string> = {}): Promise<Finished> =>
	new Promise((resolve, reject) => {
		const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
		child.once('error', reject);
		child.once('close', (code) => resolve({ code, stdout, stderr }));
	});
