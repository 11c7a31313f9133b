import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { RuntimeNotInstalledError } from './runtime-not-installed-error.ts';

/** the runtime folder (`packages/local-network/runtime/`): the PDS, its Node, playwright-core, Chromium. */
// one level up from both src/ and dist/
export const RUNTIME_DIR: string = fileURLToPath(new URL('../runtime/', import.meta.url));

/** keep equal to INSTALL_VERSION in scripts/install-runtime.mjs (a test checks). */
const INSTALL_VERSION = 2;
/** inside node_modules, so it goes when node_modules goes. */
const MARKER = join('node_modules', '.local-network-runtime.json');

/** the installed runtime. */
export interface Runtime {
	/** the runtime folder. */
	dir: string;
	/** the Node binary that runs the PDS (better-sqlite3 was built for it). */
	nodePath: string;
	/** its version, `v22.…`. */
	nodeVersion: string;
	/** the headless Chromium unpacked from `@sparticuz/chromium` at install. */
	chromiumPath: string;
}

/** the hash the install marker must carry: the lockfile plus the install steps' version. */
export const runtimeLockHash = (dir: string = RUNTIME_DIR): string => {
	const lock = readFileSync(join(dir, 'package-lock.json'));
	return createHash('sha256').update(`v${INSTALL_VERSION}\n`).update(lock).digest('hex');
};

/**
 * the installed runtime (in `dir`, default `RUNTIME_DIR`), checked against its lockfile.
 * @throws {RuntimeNotInstalledError} when it is missing or was installed from another lockfile
 */
export const findRuntime = (dir: string = RUNTIME_DIR): Runtime => {
	let marker: {
		lockHash?: unknown;
		node?: { path?: unknown; version?: unknown };
		chromium?: { path?: unknown };
	};
	try {
		marker = JSON.parse(readFileSync(join(dir, MARKER), 'utf8'));
	} catch {
		throw new RuntimeNotInstalledError('missing', dir);
	}
	if (marker.lockHash !== runtimeLockHash(dir)) {
		throw new RuntimeNotInstalledError('outdated', dir);
	}
	const nodePath = marker.node?.path;
	const nodeVersion = marker.node?.version;
	const chromiumPath = marker.chromium?.path;
	if (
		typeof nodePath !== 'string' ||
		typeof nodeVersion !== 'string' ||
		typeof chromiumPath !== 'string' ||
		!existsSync(nodePath) ||
		!existsSync(chromiumPath)
	) {
		throw new RuntimeNotInstalledError('missing', dir);
	}
	return { dir, nodePath, nodeVersion, chromiumPath };
};
