import { execFile } from 'node:child_process';
import {
	cpSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	realpathSync,
	rmSync,
	symlinkSync,
	writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// the built packages (the global setup builds them once before any test)
const packagesDir = realpathSync(fileURLToPath(new URL('../..', import.meta.url)));

interface Manifest {
	name: string;
	private?: boolean;
	dependencies?: Record<string, string>;
	peerDependencies?: Record<string, string>;
}

const manifestOf = (dir: string): Manifest =>
	JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

const published = readdirSync(packagesDir)
	.map((folder) => ({ folder, dir: join(packagesDir, folder) }))
	.filter(({ dir }) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'dist/index.d.mts')))
	.map(({ folder, dir }) => ({ folder, dir, manifest: manifestOf(dir) }))
	.filter(({ manifest }) => manifest.private !== true);

/** the folder under packages/ a declaration file belongs to, or `undefined` (a lib, a third party). */
const folderOf = (file: string): string | undefined => {
	const real = realpathSync(file);
	return real.startsWith(packagesDir + sep) ? real.slice(packagesDir.length + 1).split(sep)[0] : undefined;
};

/**
 * the types `dir`'s public declarations reach (through every exported declaration, its members'
 * types, and theirs) that are declared in one of the workspace's other packages which the user
 * does not install (a `dependencies` entry, not a peer) and that `dir`'s entry does not export.
 * under pnpm (and any install that does not hoist) such a package is out of the app's reach, and
 * a declaration the app emits that must name one of these types fails with TS2742 ("cannot be
 * named without a reference to .pnpm/…; this is likely not portable").
 */
const unnameable = (dir: string, manifest: Manifest): string[] => {
	const entry = join(dir, 'dist/index.d.mts');
	const program = ts.createProgram([entry], {
		module: ts.ModuleKind.NodeNext,
		moduleResolution: ts.ModuleResolutionKind.NodeNext,
		noEmit: true,
		types: [],
	});
	const checker = program.getTypeChecker();
	const target = (symbol: ts.Symbol) =>
		symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
	const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
	const exported = new Set(checker.getExportsOfModule(moduleSymbol).map(target));
	const peers = new Set(Object.keys(manifest.peerDependencies ?? {}));
	const own = folderOf(entry);
	const missing = new Set<string>();
	const seen = new Set<ts.Symbol>();
	const queue = [...exported];
	/** notes the type `name` refers to, and walks its declarations; `named`: a declaration the app emits may name it. */
	const reach = (name: ts.EntityName | ts.Expression, named: boolean): void => {
		const symbol = checker.getSymbolAtLocation(name);
		if (symbol === undefined) return;
		const declared = target(symbol);
		const file = declared.declarations?.[0]?.getSourceFile().fileName;
		if (file === undefined || declared.flags & ts.SymbolFlags.TypeParameter) return;
		const folder = folderOf(file);
		if (folder === undefined) return;
		const owner = manifestOf(join(packagesDir, folder)).name;
		if (named && folder !== own && !peers.has(owner) && !exported.has(declared))
			missing.add(`${declared.name} (from ${owner})`);
		queue.push(declared);
	};
	const visit = (node: ts.Node): void => {
		// what an app cannot reach from its own code: constructors (sessions and clients are made
		// by the library) and private members
		if (
			ts.isConstructorDeclaration(node) ||
			(ts.canHaveModifiers(node) &&
				ts.getModifiers(node)?.some((modifier) => modifier.kind === ts.SyntaxKind.PrivateKeyword))
		)
			return;
		if (ts.isPropertyDeclaration(node) && ts.isPrivateIdentifier(node.name)) return;
		// the base a class or interface extends, and `Base['member']`, are written out by what
		// they resolve to, never by the base's name: walked, but their own names need no export
		if (ts.isExpressionWithTypeArguments(node)) {
			reach(node.expression, false);
			node.typeArguments?.forEach(visit);
			return;
		}
		if (ts.isIndexedAccessTypeNode(node) && ts.isTypeReferenceNode(node.objectType)) {
			reach(node.objectType.typeName, false);
			visit(node.indexType);
			return;
		}
		if (ts.isTypeReferenceNode(node)) reach(node.typeName, true);
		if (ts.isTypeQueryNode(node)) reach(node.exprName, true);
		ts.forEachChild(node, visit);
	};
	while (queue.length > 0) {
		const symbol = queue.pop()!;
		if (seen.has(symbol)) continue;
		seen.add(symbol);
		for (const declaration of symbol.declarations ?? []) visit(declaration);
	}
	return [...missing].sort();
};

describe('published types', () => {
	it.each(
		published
			.filter(({ manifest }) => Object.keys(manifest.dependencies ?? {}).length > 0)
			.map(({ dir, manifest }) => [manifest.name, dir, manifest] as const),
	)(
		'%s exports every type its API mentions from the packages it depends on',
		(_name, dir, manifest) => {
			expect(unnameable(dir, manifest)).toEqual([]);
		},
		30_000,
	);

	it('an app installed by pnpm emits declarations for values it got from the facade (no TS2742)', async () => {
		// the app's node_modules as pnpm lays it out: each package in node_modules/.pnpm, beside
		// links to what it depends on; the app's own node_modules holds links to the facade and
		// the peers the README installs, and not to the facade's dependencies
		const app = mkdtempSync(join(tmpdir(), 'dist-declarations-'));
		const store = join(app, 'node_modules/.pnpm');
		const link = (target: string, path: string) => {
			mkdirSync(dirname(path), { recursive: true });
			symlinkSync(target, path, 'dir');
		};
		for (const { folder, dir, manifest } of published) {
			const copy = join(store, folder, 'node_modules', manifest.name);
			cpSync(join(dir, 'dist'), join(copy, 'dist'), { recursive: true });
			cpSync(join(dir, 'package.json'), join(copy, 'package.json'));
			for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
				const ours = published.find((candidate) => candidate.manifest.name === dependency);
				const path = join(store, folder, 'node_modules', dependency);
				if (ours !== undefined) link(join(store, ours.folder, 'node_modules', dependency), path);
				else if (existsSync(join(dir, 'node_modules', dependency)))
					link(realpathSync(join(dir, 'node_modules', dependency)), path);
			}
		}
		link(
			join(store, 'oauth-node-client/node_modules/@atcute/oauth-node-client'),
			join(app, 'node_modules/@atcute/oauth-node-client'),
		);
		for (const peer of ['@atcute/identity-resolver', '@atcute/lexicons'])
			link(
				realpathSync(join(packagesDir, 'oauth-node-client/node_modules', peer)),
				join(app, 'node_modules', peer),
			);
		link(
			realpathSync(join(packagesDir, '../node_modules/@types/node')),
			join(app, 'node_modules/@types/node'),
		);
		writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module' }));
		writeFileSync(
			join(app, 'app.ts'),
			[
				"import { createNodeFetch, createNodeSigner, scope, type OAuthClient, type OAuthClientOptions } from '@atcute/oauth-node-client';",
				// each one's type is declared in a package the facade depends on
				'export const fetch = createNodeFetch();',
				'export const signer = createNodeSigner;',
				'export const scopes = scope;',
				"export const allows = (client: OAuthClient) => client.restore('did:plc:x').then((session) => session.allows);",
				'export const keys = (client: OAuthClient) => client.jwks?.keys;',
				'export const signers = (options: OAuthClientOptions) => [options.fetch, options.createSigner, options.stores.dpopNonces];',
			].join('\n'),
		);
		const tsc = fileURLToPath(import.meta.resolve('typescript/bin/tsc'));
		const args = [
			tsc,
			...['--declaration', '--emitDeclarationOnly', '--outDir', join(app, 'out')],
			...['--lib', 'es2023', '--types', 'node', '--target', 'es2022'],
			...['--module', 'nodenext', '--moduleResolution', 'nodenext', '--strict', '--skipLibCheck'],
			join(app, 'app.ts'),
		];
		const result = await promisify(execFile)(process.execPath, args, { cwd: app })
			.then(
				() => '',
				(err: { stdout?: string }) => err.stdout ?? String(err),
			)
			// the app's folder holds a copy of every package's dist: not left behind
			.finally(() => rmSync(app, { recursive: true, force: true }));
		expect(result).toBe('');
	}, 120_000);
});
