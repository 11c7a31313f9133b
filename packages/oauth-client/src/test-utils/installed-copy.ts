import {
	cpSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	realpathSync,
	rmSync,
	symlinkSync,
	writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { afterAll } from 'vitest';

/** this package's folder (its `dist`, and its dependencies', are built before the run by the global setup). */
const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const packagesDir = dirname(packageDir);

/** the runtime dependencies of the package in `dir` (its `dependencies`): name and real folder. */
const dependenciesOf = (dir: string): Array<[name: string, path: string]> => {
	const { dependencies = {} } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
		dependencies?: Record<string, string>;
	};
	return Object.keys(dependencies).map((name) => [name, realpathSync(join(dir, 'node_modules', name))]);
};

const isWorkspacePackage = (path: string): boolean => !relative(packagesDir, path).startsWith('..');

/** a workspace package installed at `target` as published: `package.json` (its publish exports) and `dist`. */
const installPublished = (source: string, target: string): void => {
	mkdirSync(target, { recursive: true });
	const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as {
		exports?: unknown;
		publishConfig?: { exports?: unknown };
	};
	// as npm publishes it: no source condition, which would lead a runtime to the TypeScript
	if (manifest.publishConfig?.exports !== undefined) manifest.exports = manifest.publishConfig.exports;
	writeFileSync(join(target, 'package.json'), JSON.stringify(manifest));
	cpSync(join(source, 'dist'), join(target, 'dist'), { recursive: true });
};

/**
 * another installed copy of this package, as npm leaves one beside the app's own (the facade's
 * nested dependency, an adapter's peer resolved elsewhere): the built package and its workspace
 * dependencies installed as published into a `node_modules` of their own, one copy of each
 * (hoisted), other dependencies linked. `nested` gives a dependency a copy of its own of some of
 * its dependencies (`{ '@atcute/oauth-dpop': ['@atcute/oauth-keys'] }`), as an install does when
 * two ranges do not meet. a module loaded from there is another instance: its classes and its
 * module-level registries are its own. removed after the file's tests.
 */
export const loadInstalledCopy = async (
	nested: Record<string, readonly string[]> = {},
): Promise<typeof import('../index.ts')> => {
	const root = mkdtempSync(join(tmpdir(), 'atcute-oauth-client-copy-'));
	afterAll(() => rmSync(root, { recursive: true, force: true }));
	const modules = join(root, 'node_modules');
	const installed = new Map<string, string>();
	const visit = (name: string, source: string): void => {
		if (installed.has(name)) return;
		installed.set(name, source);
		const target = join(modules, name);
		if (!isWorkspacePackage(source)) {
			mkdirSync(dirname(target), { recursive: true });
			symlinkSync(source, target, 'dir');
			return;
		}
		installPublished(source, target);
		for (const [dependency, path] of dependenciesOf(source)) {
			if (nested[name]?.includes(dependency))
				installPublished(path, join(target, 'node_modules', dependency));
			visit(dependency, path);
		}
	};
	visit('@atcute/oauth-client', packageDir);
	const entry = join(modules, '@atcute', 'oauth-client', 'dist', 'index.mjs');
	return (await import(pathToFileURL(entry).href)) as typeof import('../index.ts');
};
