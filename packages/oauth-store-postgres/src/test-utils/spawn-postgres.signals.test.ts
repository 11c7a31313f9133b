// a test run stopped by a signal (Ctrl-C, a CI's SIGTERM) emits no 'exit' event: the server it
// spawned must not be left running, nor its data directory left behind
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const spawnPostgresUrl = new URL('./spawn-postgres.mjs', import.meta.url).href;

/** whether a process `pid` is still there (a zombie of another parent counts as gone for us). */
const alive = (pid: number): boolean => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};

describe('spawnPostgres, its runner stopped by a signal', () => {
	it.each(['SIGTERM', 'SIGINT'] as const)(
		'on %s stops the server, removes its data, and still ends the runner',
		async (signal) => {
			const runner = spawn(
				process.execPath,
				[
					'--input-type=module',
					'-e',
					`const { spawnPostgres } = await import(${JSON.stringify(spawnPostgresUrl)});
				const server = await spawnPostgres('signal-test');
				// postgres runs in its data directory
				const dataDir = (await import('node:fs')).readlinkSync('/proc/' + server.pid + '/cwd');
				console.log(JSON.stringify({ pid: server.pid, dataDir }));
				setInterval(() => {}, 1000);`,
				],
				{ cwd: fileURLToPath(new URL('.', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
			);
			let output = '';
			runner.stdout.setEncoding('utf8');
			const started = new Promise<{ pid: number; dataDir: string }>((resolve, reject) => {
				runner.stdout.on('data', (chunk: string) => {
					output += chunk;
					if (output.includes('\n')) resolve(JSON.parse(output));
				});
				runner.once('exit', (code) =>
					reject(new Error(`the runner exited (${code}) before its server answered`)),
				);
			});
			const { pid, dataDir } = await started;
			expect(alive(pid)).toBe(true);
			expect(existsSync(dataDir)).toBe(true);

			const exited = once(runner, 'exit');
			runner.kill(signal);
			const [code, by] = await exited;
			// the signal still ended the runner, as it would have without the server
			expect({ code, by }).toEqual({ code: null, by: signal });
			expect(existsSync(dataDir)).toBe(false);
			// SIGQUIT ends the server at once; its pid is gone a moment later
			for (let i = 0; i < 100 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
			expect(alive(pid)).toBe(false);
		},
		60_000,
	);
});
