import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { expectedLockHash, runtimeDir } from '../scripts/install-runtime.mjs';
import { findRuntime, RUNTIME_DIR, runtimeLockHash } from './runtime.ts';
import { INSTALL_RUNTIME_COMMAND, RuntimeNotInstalledError } from './runtime-not-installed-error.ts';

const dirs: string[] = [];

/** a runtime folder with a lockfile and, optionally, an install marker. */
const fakeRuntime = (marker?: unknown): string => {
	const dir = mkdtempSync(join(tmpdir(), 'local-network-runtime-test-'));
	dirs.push(dir);
	writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion":3}');
	if (marker !== undefined) {
		mkdirSync(join(dir, 'node_modules'));
		writeFileSync(join(dir, 'node_modules', '.local-network-runtime.json'), JSON.stringify(marker));
	}
	return dir;
};

afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('findRuntime', () => {
	it('agrees with the install script on where the runtime is and what its marker must say', () => {
		expect(RUNTIME_DIR).toBe(runtimeDir);
		expect(runtimeLockHash()).toBe(expectedLockHash());
	});

	it('says how to install the runtime when it is not installed', () => {
		const dir = fakeRuntime();
		const error = (() => {
			try {
				findRuntime(dir);
			} catch (error) {
				return error;
			}
		})();
		expect(error).toBeInstanceOf(RuntimeNotInstalledError);
		expect(error).toMatchObject({ name: 'RuntimeNotInstalledError', reason: 'missing', dir });
		expect((error as Error).message).toContain(INSTALL_RUNTIME_COMMAND);
	});

	it('refuses a runtime installed from another lockfile', () => {
		const dir = fakeRuntime({ lockHash: 'old', node: { path: process.execPath, version: process.version } });
		expect(() => findRuntime(dir)).toThrow(expect.objectContaining({ reason: 'outdated' }));
	});

	it('finds an installed runtime, the Node it was built for and its browser', () => {
		const dir = fakeRuntime();
		const chromiumPath = join(dir, 'chromium');
		writeFileSync(chromiumPath, '');
		const marker = {
			lockHash: runtimeLockHash(dir),
			node: { path: process.execPath, version: process.version },
			chromium: { path: chromiumPath },
		};
		mkdirSync(join(dir, 'node_modules'));
		writeFileSync(join(dir, 'node_modules', '.local-network-runtime.json'), JSON.stringify(marker));
		expect(findRuntime(dir)).toEqual({
			dir,
			nodePath: process.execPath,
			nodeVersion: process.version,
			chromiumPath,
		});
	});

	it('counts a runtime whose browser is gone (or that predates it) as not installed', () => {
		const dir = fakeRuntime();
		const node = { path: process.execPath, version: process.version };
		mkdirSync(join(dir, 'node_modules'));
		const markerFile = join(dir, 'node_modules', '.local-network-runtime.json');
		for (const chromium of [undefined, { path: join(dir, 'no-such-chromium') }]) {
			writeFileSync(markerFile, JSON.stringify({ lockHash: runtimeLockHash(dir), node, chromium }));
			expect(() => findRuntime(dir)).toThrow(expect.objectContaining({ reason: 'missing' }));
		}
	});
});
