import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Manifest {
	name: string;
	dependencies?: Record<string, string>;
	peerDependencies?: Record<string, string>;
}

const manifestOf = (folder: string): Manifest =>
	JSON.parse(readFileSync(join(packagesDir, folder, 'package.json'), 'utf8')) as Manifest;

/** the bare specifiers a built module imports at run time (static and dynamic), packages only. */
const runtimeImportsOf = (folder: string): string[] => {
	const source = readFileSync(join(packagesDir, folder, 'dist', 'index.mjs'), 'utf8');
	const specifiers = new Set<string>();
	for (const [, specifier] of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"'./][^"']*)["']/g)) {
		specifiers.add(specifier!);
	}
	return [...specifiers].filter((specifier) => {
		const name = specifier.replace(/^node:/, '');
		return !specifier.startsWith('node:') && !builtinModules.includes(name);
	});
};

/** the package a specifier names (`@scope/name/sub` → `@scope/name`). */
const packageOf = (specifier: string): string =>
	specifier
		.split('/')
		.slice(0, specifier.startsWith('@') ? 2 : 1)
		.join('/');

// the facade and every published package it installs: what a user gets from `npm install`
const FOLDERS = [
	'oauth-node-client',
	'oauth-client',
	'oauth-discovery',
	'oauth-dpop',
	'oauth-keys',
	'oauth-scope',
	'oauth-store-encrypted',
	'oauth-store-memory',
];

describe('what the facade installs imports at run time', () => {
	it.each(FOLDERS)(
		'%s: only its own dependencies, never a peer (a package manager need not install those)',
		(folder) => {
			const { dependencies = {} } = manifestOf(folder);
			const outside = runtimeImportsOf(folder).filter((specifier) => !(packageOf(specifier) in dependencies));
			expect(outside).toEqual([]);
		},
	);
});

describe('what importing the facade loads', () => {
	it("does not load Node's fetch (undici): naming Response at import would, tens of milliseconds", async () => {
		const { execFileSync } = await import('node:child_process');
		const entry = join(packagesDir, 'oauth-node-client', 'dist', 'index.mjs');
		const loaded = execFileSync(
			process.execPath,
			[
				'--input-type=module',
				'-e',
				`await import(${JSON.stringify(entry)}); console.log(JSON.stringify(process.moduleLoadList))`,
			],
			{ encoding: 'utf8' },
		);
		const modules = JSON.parse(loaded) as string[];
		expect(modules.length).toBeGreaterThan(0);
		expect(modules.filter((name) => name.includes('undici'))).toEqual([]);
	});
});
