import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

// the built packages (the global setup builds them once before any test)
const packagesDir = fileURLToPath(new URL('../..', import.meta.url));

interface Manifest {
	name: string;
	private?: boolean;
	dependencies?: Record<string, string>;
	peerDependencies?: Record<string, string>;
}

const published = readdirSync(packagesDir)
	.map((name) => join(packagesDir, name))
	.filter((dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'dist/index.mjs')))
	.map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }))
	.filter(({ manifest }) => manifest.private !== true);

const BARE_IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"./][^'"]*)['"]/g;

/** the package a bare specifier names: `@scope/name` or `name`. */
const packageOf = (specifier: string): string => {
	const parts = specifier.split('/');
	return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
};

describe('published dist', () => {
	it('covers every published package that has a build', () => {
		expect(published.map(({ manifest }) => manifest.name)).toEqual(
			expect.arrayContaining(['@atcute/oauth-discovery', '@atcute/oauth-dpop', '@atcute/oauth-lock-redis']),
		);
	});

	it.each(published.map(({ dir, manifest }) => [manifest.name, dir, manifest] as const))(
		'%s imports only what it declares (never a private workspace package)',
		(_name, dir, manifest) => {
			const declared = new Set([
				...Object.keys(manifest.dependencies ?? {}),
				...Object.keys(manifest.peerDependencies ?? {}),
			]);
			const undeclared: string[] = [];
			for (const file of readdirSync(join(dir, 'dist'))) {
				if (!/\.(?:mjs|d\.mts)$/.test(file)) continue;
				for (const [, specifier] of readFileSync(join(dir, 'dist', file), 'utf8').matchAll(BARE_IMPORT)) {
					if (specifier!.startsWith('node:')) continue;
					if (!declared.has(packageOf(specifier!))) undeclared.push(`${specifier} (dist/${file})`);
				}
			}
			expect(undeclared).toEqual([]);
		},
	);

	it('loads every build in plain node, with no source condition and no vite', async () => {
		// a child process resolves packages as an installed copy would: by their dist exports
		const urls = published.map(({ dir }) => pathToFileURL(join(dir, 'dist/index.mjs')).href);
		const script = `for (const url of ${JSON.stringify(urls)}) await import(url); console.log('loaded');`;
		const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
		expect(stdout.trim()).toBe('loaded');
	});
});
