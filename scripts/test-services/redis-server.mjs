// redis-server, for the tests of the Redis store and lock: each test file starts its own servers
// on free loopback ports (REDIS_URL, when set, serves the tests that need no server of their own).
// no registry package ships the binary; Debian's package does, so a root run with apt-get installs
// it, and any other run fails at once with the command to run.
import { spawnSync } from 'node:child_process';

import { findOnPath } from './find-on-path.mjs';
import { ServiceMissingError } from './service-missing-error.mjs';

const PACKAGE = 'redis-server';

/** the version `redis-server --version` prints (`7.0.15`), or undefined when it does not run. */
const installedVersion = () => {
	const result = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
	if (result.status !== 0) return undefined;
	return /\bv=(\S+)/.exec(result.stdout)?.[1] ?? result.stdout.trim();
};

/** runs an apt-get step quietly; throws with its last output line when it fails. */
const aptGet = (args) => {
	const result = spawnSync('apt-get', args, {
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'pipe'],
		// never a prompt: the test run has no one to answer it
		env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
	});
	if (result.status !== 0) {
		const last = `${result.stderr ?? ''}\n${result.stdout ?? ''}`.trim().split('\n').at(-1) ?? '';
		throw new Error(
			`apt-get ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}): ${last}`,
		);
	}
};

/** @type {import('./index.mjs').TestService} */
export const redisServer = {
	name: 'redis-server',
	projects: ['oauth-store-redis', 'oauth-lock-redis'],
	ensure({ log, install }) {
		if (installedVersion() !== undefined) return;
		const isRoot = process.getuid?.() === 0;
		const command = `${isRoot ? '' : 'sudo '}apt-get install -y ${PACKAGE}`;
		const missing = (why) =>
			new ServiceMissingError(
				'redis-server',
				`redis-server is not installed${why}: install it with \`${command}\` (or Redis 6.2+ from elsewhere, on PATH), then run the tests again`,
			);
		if (!install) throw missing(' (TEST_SERVICES_NO_INSTALL is set, so the tests install nothing)');
		if (findOnPath('apt-get') === undefined) {
			throw new ServiceMissingError(
				'redis-server',
				'redis-server is not installed and this machine has no apt-get: install Redis 6.2 or newer so that `redis-server` is on PATH, then run the tests again',
			);
		}
		if (!isRoot) throw missing(' and only root may install it here');

		const started = performance.now();
		log(
			`test services: redis-server is missing; installing Debian's package: apt-get update && apt-get install -y --no-install-recommends ${PACKAGE}`,
		);
		try {
			aptGet(['update', '-qq']);
			aptGet(['install', '-y', '-qq', '--no-install-recommends', PACKAGE]);
		} catch (error) {
			throw missing(` and installing it failed (${error instanceof Error ? error.message : error})`);
		}
		const version = installedVersion();
		if (version === undefined)
			throw missing(' (apt-get installed it, but `redis-server --version` does not run)');
		log(
			`test services: redis-server ${version} installed in ${((performance.now() - started) / 1000).toFixed(1)} s`,
		);
	},
};
