#!/usr/bin/env node
// installs the matrix's runtimes (Bun, Deno, Node 20.19, 22 and 24, workerd, and esbuild to bundle the
// worker) into ../runtime/node_modules with `npm ci`, apart from the pnpm workspace. each is a
// registry package that ships its binary. idempotent: a marker file records the lockfile's hash,
// and a second run with it unchanged returns at once.
//
// usage: node scripts/install-runtime.mjs [--force]
// runs on plain Node >= 20 with no dependencies (it is what installs them).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** the runtime folder: its own package.json and committed package-lock.json. */
export const runtimeDir = fileURLToPath(new URL('../runtime/', import.meta.url));
/** where the marker lives: inside node_modules, so it goes when node_modules goes. */
export const markerPath = join(runtimeDir, 'node_modules', '.runtime-matrix.json');
/** bump when the install steps change, so old installs are redone. */
const INSTALL_VERSION = 1;

const modules = join(runtimeDir, 'node_modules');

/** the binaries, by lane name: where each registry package puts it on linux-x64. */
export const binaries = {
	node20: join(modules, 'node20', 'bin', 'node'),
	node22: join(modules, 'node22', 'bin', 'node'),
	node24: join(modules, 'node24', 'bin', 'node'),
	bun: join(modules, '@oven', 'bun-linux-x64', 'bin', 'bun'),
	deno: join(modules, '@deno', 'linux-x64-glibc', 'deno'),
	workerd: join(modules, '@cloudflare', 'workerd-linux-64', 'bin', 'workerd'),
	esbuild: join(modules, '@esbuild', 'linux-x64', 'bin', 'esbuild'),
};

/** the hash the marker must carry: the lockfile plus the install steps' version. */
export const expectedLockHash = () => {
	const lock = readFileSync(join(runtimeDir, 'package-lock.json'));
	return createHash('sha256').update(`v${INSTALL_VERSION}\n`).update(lock).digest('hex');
};

const readMarker = () => {
	try {
		return JSON.parse(readFileSync(markerPath, 'utf8'));
	} catch {
		return undefined;
	}
};

/**
 * installs the runtimes unless the marker says they are there for this lockfile; returns the
 * binaries' paths. `log` gets one line per step, with its time.
 */
export const installRuntime = ({ force = false, log = (line) => console.log(line) } = {}) => {
	if (process.platform !== 'linux' || process.arch !== 'x64') {
		throw new Error(
			`the runtime matrix runs on linux-x64 only (this is ${process.platform}-${process.arch})`,
		);
	}
	const started = performance.now();
	const lockHash = expectedLockHash();
	const present = Object.values(binaries).every((path) => existsSync(path));
	if (!force && readMarker()?.lockHash === lockHash && present) {
		log(`runtimes: up to date (${runtimeDir})`);
		return binaries;
	}

	rmSync(markerPath, { force: true });
	log('runtimes: npm ci (Bun, Deno, Node 20.19, 22 and 24, workerd, esbuild; about 850 MB) ...');
	// --ignore-scripts: the bun and deno packages' postinstall scripts only move the binary that
	// their platform package already ships; the paths above point at it directly
	const result = spawnSync(
		'npm',
		['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', '--engine-strict=false'],
		{ cwd: runtimeDir, stdio: ['ignore', 'inherit', 'inherit'] },
	);
	if (result.status !== 0) {
		throw new Error(`npm ci failed (${result.error?.message ?? `exit ${result.status}`}) in ${runtimeDir}`);
	}
	const missing = Object.entries(binaries).filter(([, path]) => !existsSync(path));
	if (missing.length > 0) {
		throw new Error(`npm ci left out: ${missing.map(([name, path]) => `${name} (${path})`).join(', ')}`);
	}
	writeFileSync(markerPath, `${JSON.stringify({ lockHash }, null, '\t')}\n`);
	log(`runtimes: installed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
	return binaries;
};

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
	try {
		installRuntime({ force: process.argv.includes('--force') });
	} catch (error) {
		console.error(`install-runtime: ${error instanceof Error ? error.message : error}`);
		process.exitCode = 1;
	}
}
