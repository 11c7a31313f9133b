import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

const SERVICE = fileURLToPath(new URL('../redis-server.mjs', import.meta.url));
const isRoot = process.getuid?.() === 0;

const dirs: string[] = [];
afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** a PATH of one empty folder: no redis-server, no apt-get (until a test puts one there). */
const emptyPath = (): string => {
	const dir = mkdtempSync(join(tmpdir(), 'test-services-path-'));
	dirs.push(dir);
	return dir;
};

const script = (dir: string, name: string, body: string): void => {
	writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
	chmodSync(join(dir, name), 0o755);
};

/** runs the redis-server service in a child whose PATH is `path` only; its exit code and output. */
const ensure = (path: string, env: Record<string, string> = {}) => {
	const result = spawnSync(
		process.execPath,
		[
			'--input-type=module',
			'-e',
			`import { redisServer } from ${JSON.stringify(SERVICE)};
			import { installAllowed, ServiceMissingError } from ${JSON.stringify(SERVICE.replace('redis-server.mjs', 'index.mjs'))};
			try {
				redisServer.ensure({ log: (line) => console.log(line), install: installAllowed() });
			} catch (error) {
				console.error(error instanceof ServiceMissingError ? 'ServiceMissingError: ' + error.message : error);
				process.exitCode = 1;
			}`,
		],
		{ env: { PATH: path, ...env }, encoding: 'utf8' },
	);
	return { status: result.status, stdout: result.stdout, stderr: result.stderr };
};

describe('the redis-server test service', () => {
	it('does nothing, and says nothing, when redis-server runs', () => {
		const path = emptyPath();
		script(path, 'redis-server', 'echo "Redis server v=7.0.15 sha=00000000:0 malloc=libc bits=64"');
		expect(ensure(path)).toEqual({ status: 0, stdout: '', stderr: '' });
	});

	it('fails with one line naming redis-server and the install command when told to install nothing', () => {
		const path = emptyPath();
		script(path, 'apt-get', 'exit 1');
		const result = ensure(path, { TEST_SERVICES_NO_INSTALL: '1' });
		expect(result.status).toBe(1);
		expect(result.stdout).toBe('');
		expect(result.stderr.trim().split('\n')).toEqual([
			expect.stringContaining('redis-server is not installed'),
		]);
		expect(result.stderr).toContain('apt-get install -y redis-server');
		expect(result.stderr).toContain('TEST_SERVICES_NO_INSTALL');
	});

	it('fails with one line when there is no apt-get to install it with', () => {
		const result = ensure(emptyPath());
		expect(result.status).toBe(1);
		expect(result.stderr.trim().split('\n')).toEqual([
			'ServiceMissingError: redis-server is not installed and this machine has no apt-get: install Redis 6.2 or newer so that `redis-server` is on PATH, then run the tests again',
		]);
	});

	it('installs it with apt-get as root, saying what it runs, and checks that it then runs', () => {
		const path = emptyPath();
		const calls = join(path, 'calls.txt');
		// a stand-in apt-get that records its arguments and "installs" a redis-server into PATH
		script(
			path,
			'apt-get',
			`echo "$DEBIAN_FRONTEND $*" >> ${calls}
case "$1" in install) printf '#!/bin/sh\\necho "Redis server v=7.2.4 sha=0"\\n' > ${path}/redis-server; /bin/chmod 755 ${path}/redis-server;; esac`,
		);
		const result = ensure(path);
		if (!isRoot) {
			expect(result.status).toBe(1);
			expect(result.stderr).toContain('only root may install it here');
			expect(result.stderr).toContain('sudo apt-get install -y redis-server');
			return;
		}
		expect(result).toMatchObject({ status: 0, stderr: '' });
		const lines = result.stdout.trim().split('\n');
		expect(lines[0]).toBe(
			"test services: redis-server is missing; installing Debian's package: apt-get update && apt-get install -y --no-install-recommends redis-server",
		);
		expect(lines[1]).toMatch(/^test services: redis-server 7\.2\.4 installed in \d+\.\d s$/);
		expect(lines).toHaveLength(2);
		expect(spawnSync('/bin/cat', [calls], { encoding: 'utf8' }).stdout.trim().split('\n')).toEqual([
			'noninteractive update -qq',
			'noninteractive install -y -qq --no-install-recommends redis-server',
		]);
	});

	it('fails with one line, with apt-get’s last words, when the install fails', () => {
		const path = emptyPath();
		script(path, 'apt-get', 'echo "E: Unable to locate package redis-server" >&2; exit 100');
		const result = ensure(path);
		expect(result.status).toBe(1);
		const lines = result.stderr.trim().split('\n');
		expect(lines).toHaveLength(1);
		expect(lines[0]).toContain(
			isRoot ? 'E: Unable to locate package redis-server' : 'sudo apt-get install -y redis-server',
		);
	});
});
