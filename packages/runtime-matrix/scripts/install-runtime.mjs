#!/usr/bin/env node
// installs the matrix's runtimes (Bun, Deno, Node 20.19, 22 and 24, workerd, and esbuild to
// bundle the worker) with `npm ci`, apart from the pnpm workspace. each is a registry package that
// ships its binary. they go to a cache outside the checkout, one folder per lockfile hash, so that
// a fresh clone (CI) reuses what an earlier run installed: a second run returns at once.
//
// where: $RUNTIME_MATRIX_HOME, else $XDG_CACHE_HOME/atcute-oauth/runtime-matrix, else
// ~/.cache/atcute-oauth/runtime-matrix. folders of other lockfiles are removed after an install.
//
// usage: node scripts/install-runtime.mjs [--force]
// runs on plain Node >= 20 with no dependencies (it is what installs them).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
	copyFileSync,
	existsSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	renameSync,
	rmSync,
	writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** the runtime folder: its own package.json and committed package-lock.json. */
export const runtimeDir = fileURLToPath(new URL('../runtime/', import.meta.url));
/** bump when the install steps change, so old installs are redone. */
const INSTALL_VERSION = 1;
/** the marker's name inside an install: written last, so its presence means a complete install. */
const MARKER = '.runtime-matrix.json';

/** the cache that holds one install per lockfile hash. */
export const cacheRoot = () =>
	process.env.RUNTIME_MATRIX_HOME ||
	join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'atcute-oauth', 'runtime-matrix');

/** the hash of the lockfile plus the install steps' version: names the install folder. */
export const expectedLockHash = () => {
	const lock = readFileSync(join(runtimeDir, 'package-lock.json'));
	return createHash('sha256').update(`v${INSTALL_VERSION}\n`).update(lock).digest('hex').slice(0, 16);
};

/** the binaries, by name: where each registry package puts it on linux-x64. */
const binariesIn = (dir) => {
	const modules = join(dir, 'node_modules');
	return {
		node20: join(modules, 'node20', 'bin', 'node'),
		node22: join(modules, 'node22', 'bin', 'node'),
		node24: join(modules, 'node24', 'bin', 'node'),
		bun: join(modules, '@oven', 'bun-linux-x64', 'bin', 'bun'),
		deno: join(modules, '@deno', 'linux-x64-glibc', 'deno'),
		workerd: join(modules, '@cloudflare', 'workerd-linux-64', 'bin', 'workerd'),
		esbuild: join(modules, '@esbuild', 'linux-x64', 'bin', 'esbuild'),
	};
};

const complete = (dir) =>
	existsSync(join(dir, MARKER)) && Object.values(binariesIn(dir)).every((path) => existsSync(path));

/**
 * installs the runtimes unless the cache holds them for this lockfile; returns the binaries'
 * paths. `log` gets one line per step, with its time.
 */
export const installRuntime = ({ force = false, log = (line) => console.log(line) } = {}) => {
	if (process.platform !== 'linux' || process.arch !== 'x64') {
		throw new Error(
			`the runtime matrix runs on linux-x64 only (this is ${process.platform}-${process.arch})`,
		);
	}
	const started = performance.now();
	const root = cacheRoot();
	const hash = expectedLockHash();
	const installDir = join(root, hash);
	if (!force && complete(installDir)) {
		log(`runtimes: up to date (${installDir})`);
		return binariesIn(installDir);
	}

	// installed beside the final folder and renamed into place, so that an interrupted install
	// never looks complete
	const workDir = join(root, `${hash}.tmp-${process.pid}`);
	rmSync(workDir, { recursive: true, force: true });
	mkdirSync(workDir, { recursive: true });
	copyFileSync(join(runtimeDir, 'package.json'), join(workDir, 'package.json'));
	copyFileSync(join(runtimeDir, 'package-lock.json'), join(workDir, 'package-lock.json'));
	log(
		`runtimes: npm ci into ${installDir} (Bun, Deno, Node 20.19, 22 and 24, workerd, esbuild; about 850 MB) ...`,
	);
	// --ignore-scripts: the bun and deno packages' postinstall scripts only move the binary that
	// their platform package already ships; binariesIn() points at it directly
	const result = spawnSync(
		'npm',
		['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', '--engine-strict=false'],
		{ cwd: workDir, stdio: ['ignore', 'inherit', 'inherit'] },
	);
	if (result.status !== 0) {
		rmSync(workDir, { recursive: true, force: true });
		throw new Error(`npm ci failed (${result.error?.message ?? `exit ${result.status}`}) in ${workDir}`);
	}
	const missing = Object.entries(binariesIn(workDir)).filter(([, path]) => !existsSync(path));
	if (missing.length > 0) {
		rmSync(workDir, { recursive: true, force: true });
		throw new Error(`npm ci left out: ${missing.map(([name, path]) => `${name} (${path})`).join(', ')}`);
	}
	writeFileSync(join(workDir, MARKER), `${JSON.stringify({ hash }, null, '\t')}\n`);
	rmSync(installDir, { recursive: true, force: true });
	renameSync(workDir, installDir);

	// other lockfiles' installs are stale: 850 MB each
	for (const entry of readdirSync(root)) {
		if (entry !== hash && /^[0-9a-f]{16}$/.test(entry))
			rmSync(join(root, entry), { recursive: true, force: true });
	}
	log(`runtimes: installed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
	return binariesIn(installDir);
};

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
	try {
		installRuntime({ force: process.argv.includes('--force') });
	} catch (error) {
		console.error(`install-runtime: ${error instanceof Error ? error.message : error}`);
		process.exitCode = 1;
	}
}
