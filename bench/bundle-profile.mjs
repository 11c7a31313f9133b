// where the bytes of the facade's app bundle go: the bundle of startup.bench.mjs (esbuild,
// minified; OAuthClient, MemoryStore, importJwkKey, scope), broken down by package and by source
// file. by default it bundles the packages' src/ (through the source condition, no build needed),
// which comes within a few hundred bytes of the built dist; `--dist` bundles what users install.
// `--out <file>` keeps the minified bundle to read. run: node bench/bundle-profile.mjs [--dist]
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.argv.includes('--dist');
const outIndex = process.argv.indexOf('--out');

const result = await build({
	stdin: {
		contents: `export { OAuthClient, MemoryStore, importJwkKey, scope } from '@atcute/oauth-node-client';`,
		resolveDir: here,
		loader: 'js',
	},
	bundle: true,
	minify: true,
	format: 'esm',
	platform: 'node',
	write: false,
	metafile: true,
	logLevel: 'silent',
	conditions: dist ? [] : ['@atcute-oauth/source'],
});
const bytes = result.outputFiles[0].contents;
if (outIndex !== -1) writeFileSync(process.argv[outIndex + 1], bytes);

const files = Object.entries(Object.values(result.metafile.outputs)[0].inputs)
	.filter(([, { bytesInOutput }]) => bytesInOutput > 0)
	.map(([path, { bytesInOutput }]) => [path.replace(/^.*?packages\//, ''), bytesInOutput]);
const byPackage = new Map();
for (const [path, size] of files) {
	const owner = path.split('/')[0];
	byPackage.set(owner, (byPackage.get(owner) ?? 0) + size);
}

const kB = (size) => (size / 1000).toFixed(1);
console.log(
	`bundle ${kB(bytes.length)} kB, gzip ${kB(gzipSync(bytes).length)} kB (${dist ? 'dist' : 'src'})`,
);
for (const [owner, size] of [...byPackage].sort((a, b) => b[1] - a[1])) {
	console.log(`\n${owner} ${kB(size)} kB`);
	for (const [path, fileSize] of files
		.filter(([path]) => path.startsWith(`${owner}/`))
		.sort((a, b) => b[1] - a[1])) {
		console.log(`  ${String(fileSize).padStart(6)}  ${path.slice(owner.length + 1)}`);
	}
}
