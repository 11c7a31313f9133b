// the command-line tools' arguments, checked before anything starts or installs. every case
// sets PORT=abc too: a demo.mjs that let the argument through stops at that check (exit 2, naming
// PORT), so no case ever reaches the runtime's install or starts the PDS.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

const runBin = (bin: string, args: string[]) =>
	new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
		execFile(
			process.execPath,
			[bin, ...args],
			{ cwd: packageDir, env: { ...process.env, PORT: 'abc' }, timeout: 20_000 },
			(error, stdout, stderr) =>
				resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stdout, stderr }),
		);
	});

describe('bin/demo.mjs arguments', () => {
	it.each([['--dmeo'], ['--demo', '--browzer'], ['demo']])(
		'refuses an unknown argument %j, naming it, exit code 2, before anything starts',
		async (...args) => {
			const { code, stdout, stderr } = await runBin('bin/demo.mjs', args);
			expect(code).toBe(2);
			expect(stdout).toBe('');
			expect(stderr).toContain(`unknown argument ${args.at(-1)}`);
			expect(stderr).toContain('usage: demo.mjs');
		},
	);

	it('refuses --browser without --demo instead of ignoring it', async () => {
		const { code, stderr } = await runBin('bin/demo.mjs', ['--browser']);
		expect(code).toBe(2);
		expect(stderr).toContain('--browser');
		expect(stderr).toContain('--demo');
	});
});

describe('bin/local-network.mjs arguments', () => {
	it.each([['--help'], ['-h']])('prints its usage for %s on stdout, exit code 0', async (flag) => {
		const { code, stdout, stderr } = await runBin('bin/local-network.mjs', [flag]);
		expect(code).toBe(0);
		expect(stdout).toContain('usage: local-network.mjs');
		expect(stderr).toBe('');
	});

	it('names --account as missing its value, not as unknown', async () => {
		const { code, stderr } = await runBin('bin/local-network.mjs', ['--account']);
		expect(code).toBe(2);
		expect(stderr).toContain('--account needs a value');
	});
});
