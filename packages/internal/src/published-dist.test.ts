import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

	it('loads every build with require() from CommonJS (no top-level await)', async () => {
		// the README promises require() on the Node versions of `engines`; a top-level await in any
		// module a build loads at import would make it throw ERR_REQUIRE_ASYNC_MODULE
		const paths = published.map(({ dir }) => join(dir, 'dist/index.mjs'));
		const script = `for (const path of ${JSON.stringify(paths)}) require(path); console.log('required');`;
		const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=commonjs', '-e', script]);
		expect(stdout.trim()).toBe('required');
	});

	it.each(published.map(({ dir, manifest }) => [manifest.name, dir] as const))(
		'%s: its types import only packages that ship their own types',
		(_name, dir) => {
			const untyped: string[] = [];
			for (const file of readdirSync(join(dir, 'dist'))) {
				if (!file.endsWith('.d.mts')) continue;
				for (const [, specifier] of readFileSync(join(dir, 'dist', file), 'utf8').matchAll(BARE_IMPORT)) {
					if (specifier!.startsWith('node:')) continue;
					// as the user's install links it: the package's own node_modules, then the root's
					const name = packageOf(specifier!);
					const found = [join(dir, 'node_modules', name), join(packagesDir, '..', 'node_modules', name)].find(
						(candidate) => existsSync(join(candidate, 'package.json')),
					);
					if (found === undefined || !shipsTypes(found, specifier!))
						untyped.push(`${specifier} (dist/${file})`);
				}
			}
			// such an import is `any` under skipLibCheck, and TS7016 without it (`pg`'s types are
			// @types/pg, which a user who installs what the README says does not have)
			expect(untyped).toEqual([]);
		},
	);

	it('compile in a Node program without the DOM lib, strictly, with skipLibCheck off', async () => {
		const tsc = fileURLToPath(import.meta.resolve('typescript/bin/tsc'));
		const entries = published.map(({ dir }) => join(dir, 'dist/index.d.mts'));
		// and a signer written against node:crypto's own CryptoKey type fits the keys' types, both ways
		const consumer = join(mkdtempSync(join(tmpdir(), 'dist-types-')), 'node-signer.mts');
		const keys = join(packagesDir, 'oauth-keys/dist/index.mjs');
		writeFileSync(
			consumer,
			[
				"import type { webcrypto } from 'node:crypto';",
				`import type { CreateSigner, SignFunction, SigningKey } from ${JSON.stringify(keys)};`,
				'const mine = (_key: webcrypto.CryptoKey, _alg: string): SignFunction => () => new Uint8Array();',
				'export const signer: CreateSigner = mine;',
				'declare const key: SigningKey;',
				'export const back: webcrypto.CryptoKey = key.cryptoKey;',
			].join('\n'),
		);
		entries.push(consumer);
		const args = [
			tsc,
			'--noEmit',
			// what a server project compiles with: Node's types, no DOM (no global CryptoKey type)
			...['--lib', 'es2023', '--types', 'node', '--target', 'es2022'],
			...['--module', 'nodenext', '--moduleResolution', 'nodenext'],
			...['--strict', '--exactOptionalPropertyTypes', '--skipLibCheck', 'false'],
			...entries,
		];
		const result = await promisify(execFile)(process.execPath, args).then(
			() => '',
			(err: { stdout?: string }) => err.stdout ?? String(err),
		);
		expect(result).toBe('');
	}, 60_000);
});

/**
 * whether the package in `dir` has type definitions of its own for `specifier`: a `types` or
 * `typings` field, a `types` condition in its exports, or a `.d.ts` beside the module its exports
 * (or `main`) name, where TypeScript finds one.
 */
const shipsTypes = (dir: string, specifier: string): boolean => {
	const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
		types?: unknown;
		typings?: unknown;
		main?: unknown;
		exports?: unknown;
	};
	if (typeof manifest.types === 'string' || typeof manifest.typings === 'string') return true;
	const subpath = `.${specifier.slice(packageOf(specifier).length)}`;
	let target: unknown =
		typeof manifest.exports === 'object' && manifest.exports !== null && subpath in manifest.exports
			? (manifest.exports as Record<string, unknown>)[subpath]
			: subpath === '.'
				? (manifest.exports ?? manifest.main ?? 'index.js')
				: undefined;
	// a conditions object: its `types`, else the module it would load
	while (typeof target === 'object' && target !== null) {
		const conditions = target as Record<string, unknown>;
		if ('types' in conditions) return true;
		target = conditions.import ?? conditions.default ?? conditions.node;
	}
	if (typeof target !== 'string') return false;
	const module = join(dir, target);
	return [module.replace(/\.m?js$/, '.d.ts'), module.replace(/\.mjs$/, '.d.mts')].some(existsSync);
};
