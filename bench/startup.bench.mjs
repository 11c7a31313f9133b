// what the facade costs an app before its first request: the time to import it over a bare node
// start, the node: modules that import loads, and its size bundled (esbuild, minified) for an app
// using OAuthClient, MemoryStore, importJwkKey and scope; upstream @atcute/oauth-node-client 2.0.1
// beside it. ours is measured twice: from the workspace (pnpm's symlinks) and installed as users
// get it (packed and `npm install`ed into a temporary app: a flat node_modules, no symlinks), since
// node resolves each bare `@atcute/*` specifier by walking node_modules folders, and the two layouts
// walk differently. run: pnpm bench startup
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { bundleForApp } from './lib/app-bundle.mjs';
import { importLayouts } from './lib/import-layouts.mjs';
import { installApp } from './lib/installed-app.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 15);

const OURS = { name: '@atcute/oauth-node-client', names: 'OAuthClient, MemoryStore, importJwkKey, scope' };
const installed = installApp(OURS.name);
process.on('exit', installed.remove);
const layouts = await importLayouts(installed.dir, OURS.name);
process.on('exit', layouts.remove);

// each subject is imported from `dir`, the app it is installed in
const subjects = {
	'ours (workspace)': { ...OURS, dir: here },
	'ours (installed)': { ...OURS, dir: installed.dir },
	// 2.0.1 has no importJwkKey; its key helper stands in. installed by pnpm (the bench's own
	// node_modules), so its figure is the workspace layout's
	'upstream 2.0.1': {
		name: 'atcute-upstream',
		names: 'OAuthClient, MemoryStore, generateClientAssertionKey, scope',
		dir: here,
	},
};
// where ours' time goes (not layouts we ship): the installed files with their bare @atcute/*
// specifiers made relative (installed − this = node resolving them), all in one file (relative −
// this = the 7 extra modules), and an empty module behind the facade's package.json (what the
// first import of any package costs node: reading a package.json, walking an exports map)
const analysis = {
	'  specifiers made relative': { name: OURS.name, dir: layouts.relative.dir },
	'  one file (esbuild bundle)': { name: OURS.name, dir: layouts.oneFile.dir },
	'  an empty package': { name: OURS.name, dir: layouts.emptyPackage.dir },
};

const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];

// the first file a process imports also sets up node's ESM file loader (about 8 ms here), which an
// app whose entry is a module has paid before its first import; importing an empty module measures it
const EMPTY_MODULE = './lib/empty-module.mjs';

// each run is a fresh process; the import is timed inside it (wall and CPU), so node's own start
// is left out. the subjects take turns, run after run, so a busy machine weighs on each alike.
const importScript = (specifier) =>
	`const t = performance.now(), c = process.cpuUsage(); ${specifier ? `await import(${JSON.stringify(specifier)}); ` : ''}const u = process.cpuUsage(c); console.log(JSON.stringify([performance.now() - t, (u.user + u.system) / 1000]))`;
/** `imports`: [specifier, the directory it is imported from] pairs. */
const timeImports = (imports) => {
	const samples = imports.map(() => ({ wall: [], cpu: [] }));
	for (let i = 0; i < RUNS; i++) {
		for (const [index, [specifier, dir]] of imports.entries()) {
			const out = execFileSync(process.execPath, ['--input-type=module', '-e', importScript(specifier)], {
				cwd: dir,
			});
			const [wall, cpu] = JSON.parse(out.toString());
			samples[index].wall.push(wall);
			samples[index].cpu.push(cpu);
		}
	}
	return samples.map(({ wall, cpu }) => ({ wall: median(wall), cpu: median(cpu) }));
};

const bundle = async ({ name, names, dir }) => {
	const { bytes, metafile } = await bundleForApp({ name, names, dir });
	// where the bytes go: output bytes per package
	const byPackage = new Map();
	for (const [path, { bytesInOutput }] of Object.entries(Object.values(metafile.outputs)[0].inputs)) {
		const match = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/);
		const owner = match
			? match[1]
			: path.startsWith('<stdin>')
				? 'entry'
				: path.split('/').slice(0, 3).join('/');
		byPackage.set(owner, (byPackage.get(owner) ?? 0) + bytesInOutput);
	}
	return { size: bytes.length, gzip: gzipSync(bytes).length, byPackage };
};

// the public node: modules an import loads (not counting those node loads for any first import)
const builtinsLoaded = ({ name, dir }) => {
	const script = `const seen = new Set(process.moduleLoadList); await import(${JSON.stringify(new URL(EMPTY_MODULE, import.meta.url).href)}); for (const m of process.moduleLoadList) seen.add(m); await import(${JSON.stringify(name)}); console.log(JSON.stringify(process.moduleLoadList.filter((m) => !seen.has(m))))`;
	const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
	return JSON.parse(out.toString())
		.filter((entry) => entry.startsWith('NativeModule ') && !entry.includes('internal/'))
		.map((entry) => entry.slice('NativeModule '.length));
};

// the functions V8's optimizing compiler (TurboFan) compiled during the import, and what each took.
// node's resolution of a bare specifier converts every node_modules folder it tries to a path
// character by character (`getPathFromURLPosix`); walk enough of them (the npm layout tries about 4
// per specifier, and longer app paths mean more characters) and that function gets hot: its
// compile, the process's first, costs 10-30 ms of CPU on a background thread, a cost an app with
// other dependencies pays anyway for its own imports, whichever import tips it over
const optimizedDuringImport = ({ name, dir }) => {
	const out = execFileSync(
		process.execPath,
		['--trace-opt', '--input-type=module', '-e', `await import(${JSON.stringify(name)})`],
		{
			cwd: dir,
		},
	);
	return [
		...out
			.toString()
			.matchAll(/completed compiling .*?<JSFunction (\S+).*? took [\d.]+, ([\d.]+), [\d.]+ ms/g),
	].map(([, fn, ms]) => `${fn} (${Number(ms).toFixed(0)} ms)`);
};

const labels = Object.keys(subjects);
const timed = { ...subjects, ...analysis };
const [bare, empty, ...imports] = timeImports([
	[undefined, here],
	[EMPTY_MODULE, here],
	...Object.values(timed).map(({ name, dir }) => [name, dir]),
]);
const rows = {};
for (const [index, label] of Object.keys(timed).entries()) {
	rows[label] = {
		'import wall (ms)': imports[index].wall.toFixed(1),
		'import CPU (ms)': imports[index].cpu.toFixed(1),
		'CPU over an empty module (ms)': (imports[index].cpu - empty.cpu).toFixed(1),
		'bundle (kB)': '',
		'gzip (kB)': '',
	};
}
for (const label of labels) {
	const { size, gzip, byPackage } = await bundle(subjects[label]);
	rows[label]['bundle (kB)'] = (size / 1000).toFixed(1);
	rows[label]['gzip (kB)'] = (gzip / 1000).toFixed(1);
	console.log(
		`${label}, node: modules its import loads: ${builtinsLoaded(subjects[label]).join(', ') || 'none'}`,
	);
	console.log(
		`${label}, functions TurboFan compiled during the import: ${optimizedDuringImport(subjects[label]).join(', ') || 'none'}`,
	);
	const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 8);
	console.log(
		`${label}, bundle bytes by package: ${top.map(([p, b]) => `${p} ${(b / 1000).toFixed(1)} kB`).join(', ')}`,
	);
}
console.log(
	`\nmedians of ${RUNS} fresh processes; an empty script takes ${bare.wall.toFixed(2)} ms there, importing an empty module ${empty.wall.toFixed(1)} ms (${empty.cpu.toFixed(1)} ms CPU)`,
);
console.table(rows);
console.log('targets: import ≤ 25 ms over a bare start; bundle ≤ 45 kB, ≤ 15 kB gzipped');
