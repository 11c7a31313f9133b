// variants of an installed app that split the cost of importing a package into its parts: the same
// modules with their bare `@atcute/*` specifiers rewritten to relative paths (what node's
// resolution of those specifiers costs), the whole graph bundled into one file (what the extra
// modules cost: a file read, a compile and a link each), and an empty module behind the same
// package.json (what any app's first import of a package costs node). analysis only: none of them
// is a layout we ship.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

import { build } from 'esbuild';

const BARE_ATCUTE = /((?:from|import)\s*)(["'])(@atcute\/[^"']+)\2/g;

/** the built `.mjs` files of every @atcute package installed in `appDir`. */
const atcuteModules = (appDir) => {
	const scope = join(appDir, 'node_modules/@atcute');
	const files = [];
	for (const pkg of readdirSync(scope)) {
		const dist = join(scope, pkg, 'dist');
		for (const file of readdirSync(dist)) if (file.endsWith('.mjs')) files.push(join(dist, file));
	}
	return files;
};

/** a folder with a package.json for `type: module`, and `node_modules/<name>` holding `files`. */
const appWith = (name, manifest, files) => {
	const dir = mkdtempSync(join(tmpdir(), 'atcute-layout-'));
	writeFileSync(
		join(dir, 'package.json'),
		JSON.stringify({ name: 'layout-app', private: true, type: 'module' }),
	);
	const pkgDir = join(dir, 'node_modules', name);
	mkdirSync(pkgDir, { recursive: true });
	writeFileSync(join(pkgDir, 'package.json'), manifest);
	for (const [path, contents] of Object.entries(files)) {
		mkdirSync(dirname(join(pkgDir, path)), { recursive: true });
		writeFileSync(join(pkgDir, path), contents);
	}
	return dir;
};

/**
 * the three variants of `appDir` (an app with `name` installed flat, see installed-app.mjs), each
 * `{ dir }` to import `name` from; `remove()` deletes them.
 */
export const importLayouts = async (appDir, name) => {
	const dirs = [];
	const manifest = readFileSync(join(appDir, 'node_modules', name, 'package.json'), 'utf8');
	const entry = createRequire(join(appDir, 'package.json')).resolve(name);
	// where the package's exports map points, inside the package
	const entryPath = relative(join(appDir, 'node_modules', name), entry);

	// the same files, each bare @atcute/* specifier replaced by the relative path node resolves it to
	const relativeDir = mkdtempSync(join(tmpdir(), 'atcute-layout-'));
	dirs.push(relativeDir);
	cpSync(appDir, relativeDir, { recursive: true });
	for (const file of atcuteModules(relativeDir)) {
		const resolveFrom = createRequire(file);
		const source = readFileSync(file, 'utf8').replace(BARE_ATCUTE, (_, keyword, quote, specifier) => {
			let path = relative(dirname(file), resolveFrom.resolve(specifier));
			if (!path.startsWith('.')) path = `./${path}`;
			return `${keyword}${quote}${path}${quote}`;
		});
		writeFileSync(file, source);
	}

	// one file: the facade and every @atcute package it imports, bundled (node: modules stay imports)
	const bundled = await build({
		entryPoints: [entry],
		bundle: true,
		format: 'esm',
		platform: 'node',
		write: false,
		logLevel: 'silent',
	});
	const oneFileDir = appWith(name, manifest, { [entryPath]: bundled.outputFiles[0].contents });
	dirs.push(oneFileDir);

	// nothing behind the package's own package.json and exports map
	const emptyDir = appWith(name, manifest, { [entryPath]: '' });
	dirs.push(emptyDir);

	return {
		relative: { dir: relativeDir },
		oneFile: { dir: oneFileDir },
		emptyPackage: { dir: emptyDir },
		remove: () => {
			for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
		},
	};
};
