import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { beforeAll, describe, expect, it } from 'vitest';

import { START_TIMEOUT_MS } from './helpers.ts';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const BUILD_TIMEOUT_MS = 180_000;

/** whether plain node (no source condition) can load the built package and what it imports. */
const builtPackageLoads = async (): Promise<boolean> => {
	try {
		await run(process.execPath, ['--input-type=module', '-e', "await import('./dist/index.mjs')"], {
			cwd: packageDir,
		});
		return true;
	} catch {
		return false;
	}
};

beforeAll(async () => {
	// bin/demo.mjs runs on the built packages, as `pnpm start` does: build them when missing
	if (!(await builtPackageLoads())) {
		await run('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@atcute-oauth/local-network...'], {
			cwd: repoRoot,
		});
	}
}, BUILD_TIMEOUT_MS);

describe('bin/demo.mjs --demo (the headless main job)', () => {
	it(
		'runs sign-in, protected page and sign-out by itself, printing each step with its timing',
		async () => {
			const { stdout } = await run(process.execPath, ['bin/demo.mjs', '--demo'], {
				cwd: packageDir,
				timeout: START_TIMEOUT_MS,
			});
			const steps = stdout.split('\n').filter((line) => /^ {2}[✓✗] /.test(line));
			expect(steps.map((line) => line.replace(/ \(\d+\.\d\d s\).*$/, ''))).toEqual([
				'  ✓ start the local network (in-memory PLC + reference PDS)',
				'  ✓ start the example app as a confidential client',
				'  ✓ open the app',
				'  ✓ start the sign-in (PAR; the PDS fetches the client metadata)',
				'  ✓ sign in and consent on the PDS',
				'  ✓ callback (code exchange, DPoP, private_key_jwt)',
				'  ✓ protected page (a live getSession on the PDS)',
				'  ✓ sign out (tokens revoked)',
				'  ✓ signed out: the protected page sends us home',
				'  ✓ stop everything',
			]);
			expect(stdout).toMatch(/client_id https:\/\/client\.e2e\.internal:\d+\/oauth-client-metadata\.json/);
			expect(stdout).toMatch(/@alice\.test did:plc:[a-z2-7]{24}/);
			expect(stdout).toMatch(/^demo passed in \d+\.\d\d s: signed in as @alice\.test/m);
		},
		START_TIMEOUT_MS,
	);
});
