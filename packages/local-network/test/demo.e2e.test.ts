import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** runs bin/demo.mjs (interactive) with its own TMPDIR, collecting its output. */
const startDemo = (env: Record<string, string>) => {
	const tmp = mkdtempSync(join(tmpdir(), 'demo-bin-'));
	// a process group of its own, as a terminal gives: a Ctrl-C there signals the whole group
	const child = spawn(process.execPath, ['bin/demo.mjs'], {
		cwd: packageDir,
		env: { ...process.env, TMPDIR: tmp, ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	let output = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
	const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
	const until = async (pattern: RegExp) => {
		while (!pattern.test(output)) {
			if (child.exitCode !== null) throw new Error(`demo.mjs exited early:\n${output}`);
			await new Promise((resolve) => setTimeout(resolve, 25));
		}
	};
	/** what the run left in its TMPDIR (the network's folder holds the PDS's data and TLS keys). */
	const leftovers = () => readdirSync(tmp).filter((name) => name.startsWith('atcute-local-network-'));
	return { child, exited, until, output: () => output, leftovers, tmp };
};

const isRunning = (pid: number) => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};

describe('bin/demo.mjs (the interactive main job) when stopped or misconfigured', () => {
	it('refuses a PORT that is no port before starting anything', async () => {
		const demo = startDemo({ PORT: 'abc' });
		const [code] = await demo.exited;
		expect(code).toBe(2);
		expect(demo.output()).toContain(
			'PORT must be a port number from 0 to 65535 (0: any free one), got "abc"',
		);
		expect(demo.leftovers()).toEqual([]);
		rmSync(demo.tmp, { recursive: true, force: true });
	});

	it(
		'says which port is taken, and leaves nothing running or on disk',
		async () => {
			const holder = createServer();
			await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
			const { port } = holder.address() as AddressInfo;
			try {
				const demo = startDemo({ PORT: String(port) });
				const [code] = await demo.exited;
				expect(code).toBe(1);
				expect(demo.output()).toContain(
					`port ${port} is taken: stop what listens there, or choose another with PORT=<port>`,
				);
				expect(demo.output()).not.toMatch(/\n\s+at /);
				expect(demo.leftovers()).toEqual([]);
				rmSync(demo.tmp, { recursive: true, force: true });
			} finally {
				holder.close();
			}
		},
		START_TIMEOUT_MS,
	);

	it(
		'says to install openssl when it is missing, in one line, and leaves nothing on disk',
		async () => {
			// a PATH with what the runtime check needs, and no openssl (a slim container image)
			const bin = mkdtempSync(join(tmpdir(), 'demo-path-'));
			for (const tool of ['sh', 'bash', 'env', 'npm']) {
				const { stdout } = await run('sh', ['-c', `command -v ${tool} || true`]);
				if (stdout.trim() !== '') symlinkSync(stdout.trim(), join(bin, tool));
			}
			symlinkSync(process.execPath, join(bin, 'node'));
			try {
				const demo = startDemo({ PORT: '0', PATH: bin });
				const [code] = await demo.exited;
				expect(code).toBe(1);
				expect(demo.output()).toContain(
					'start failed: the local network makes its test certificates with the `openssl` command, which is not installed here',
				);
				expect(demo.output()).not.toMatch(/\n\s+at /);
				expect(demo.leftovers()).toEqual([]);
				rmSync(demo.tmp, { recursive: true, force: true });
			} finally {
				rmSync(bin, { recursive: true, force: true });
			}
		},
		START_TIMEOUT_MS,
	);

	it(
		'says why the PDS did not start, naming the PDS_ settings it took from the environment',
		async () => {
			const demo = startDemo({ PORT: '0', PDS_HOSTNAME: 'pds.example.com' });
			const [code] = await demo.exited;
			expect(code).toBe(1);
			expect(demo.output()).toMatch(/^start failed: the local PDS exited before it was ready/m);
			// the PDS's own last words say why (it looked up the host it was told it is)
			expect(demo.output()).toContain('ENOTFOUND pds.example.com');
			expect(demo.output()).toMatch(/the local PDS was given .*PDS_HOSTNAME.* from your environment/);
			expect(demo.leftovers()).toEqual([]);
			rmSync(demo.tmp, { recursive: true, force: true });
		},
		START_TIMEOUT_MS,
	);

	it(
		'deletes the network’s folder when a signal comes while it starts',
		async () => {
			const demo = startDemo({ PORT: '0' });
			await demo.until(/runtime: /);
			// the network's folder (TLS keys first) exists from here on, before the PDS is up
			while (demo.leftovers().length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
			demo.child.kill('SIGINT');
			const [code] = await demo.exited;
			expect(code).toBe(130);
			expect(demo.leftovers()).toEqual([]);
			rmSync(demo.tmp, { recursive: true, force: true });
		},
		START_TIMEOUT_MS,
	);

	it(
		'kills the openssl it runs when a signal comes while it makes the certificates',
		async () => {
			// an openssl that waits two seconds before doing anything: killed, it never writes its mark
			const bin = mkdtempSync(join(tmpdir(), 'demo-path-'));
			const mark = join(bin, 'survived');
			const openssl = (await run('sh', ['-c', 'command -v openssl'])).stdout.trim();
			writeFileSync(
				join(bin, 'openssl'),
				`#!/bin/sh\n: > "${mark}.started"\nsleep 2\n: > "${mark}"\nexec "${openssl}" "$@"\n`,
				{ mode: 0o755 },
			);
			try {
				const demo = startDemo({ PORT: '0', PATH: `${bin}:${process.env.PATH}` });
				while (!existsSync(`${mark}.started`)) {
					if (demo.child.exitCode !== null) throw new Error(`demo.mjs exited early:\n${demo.output()}`);
					await new Promise((resolve) => setTimeout(resolve, 10));
				}
				demo.child.kill('SIGINT');
				const [code] = await demo.exited;
				expect(code).toBe(130);
				expect(demo.leftovers()).toEqual([]);
				await new Promise((resolve) => setTimeout(resolve, 2_500));
				expect(existsSync(mark)).toBe(false);
				rmSync(demo.tmp, { recursive: true, force: true });
			} finally {
				rmSync(bin, { recursive: true, force: true });
			}
		},
		START_TIMEOUT_MS,
	);

	it(
		'takes a SIGTERM that arrives twice at once (a kill of the process group, passed on by pnpm) as one',
		async () => {
			const demo = startDemo({ PORT: '0' });
			await demo.until(/ {2}password +\S+/);
			demo.child.kill('SIGTERM');
			// a moment apart, as the echo comes (two at once would merge into one pending signal)
			await demo.until(/SIGTERM: stopping/);
			// should it have exited already, the second signal finds no process: not this test's failure
			demo.child.on('error', () => {});
			demo.child.kill('SIGTERM');
			const [code] = await demo.exited;
			// stopped as asked, not forced (130), which would kill the PDS instead of closing it
			expect(code).toBe(0);
			expect(demo.leftovers()).toEqual([]);
			rmSync(demo.tmp, { recursive: true, force: true });
		},
		START_TIMEOUT_MS,
	);

	for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
		it(
			`stops the PDS and deletes its folder on ${signal} while serving`,
			async () => {
				const demo = startDemo({ PORT: '0' });
				await demo.until(/ {2}password +\S+/);
				const pid = Number(/pid (\d+)\)/.exec(demo.output())![1]);
				expect(isRunning(pid)).toBe(true);
				demo.child.kill(signal);
				const [code] = await demo.exited;
				expect(code).toBe(0);
				expect(demo.output()).toContain(`${signal}: stopping`);
				expect(demo.leftovers()).toEqual([]);
				// the PDS went with it
				for (let i = 0; i < 100 && isRunning(pid); i++)
					await new Promise((resolve) => setTimeout(resolve, 50));
				expect(isRunning(pid)).toBe(false);
				rmSync(demo.tmp, { recursive: true, force: true });
			},
			START_TIMEOUT_MS,
		);
	}
});

describe('bin/local-network.mjs (the network alone)', () => {
	it(
		'keeps colons in an --account password, and stops the PDS on SIGHUP',
		async () => {
			const tmp = mkdtempSync(join(tmpdir(), 'local-network-bin-'));
			const child = spawn(
				process.execPath,
				['bin/local-network.mjs', '--account', 'bob.test:pa:ss', '--json'],
				{
					cwd: packageDir,
					env: { ...process.env, TMPDIR: tmp },
					stdio: ['ignore', 'pipe', 'inherit'],
				},
			);
			try {
				let output = '';
				child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
				while (!output.includes('\n')) {
					if (child.exitCode !== null) throw new Error(`local-network.mjs exited early: ${output}`);
					await new Promise((resolve) => setTimeout(resolve, 25));
				}
				const started = JSON.parse(output) as {
					pdsUrl: string;
					pid: number;
					accounts: { handle: string; password: string }[];
				};
				expect(started.accounts).toMatchObject([{ handle: 'bob.test', password: 'pa:ss' }]);
				const signIn = await fetch(`${started.pdsUrl}/xrpc/com.atproto.server.createSession`, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({ identifier: 'bob.test', password: 'pa:ss' }),
				});
				expect(signIn.status).toBe(200);

				child.kill('SIGHUP');
				const [code] = await once(child, 'exit');
				expect(code).toBe(0);
				for (let i = 0; i < 100 && isRunning(started.pid); i++)
					await new Promise((resolve) => setTimeout(resolve, 50));
				expect(isRunning(started.pid)).toBe(false);
				expect(readdirSync(tmp)).toEqual([]);
			} finally {
				child.kill('SIGKILL');
				rmSync(tmp, { recursive: true, force: true });
			}
		},
		START_TIMEOUT_MS,
	);
});
