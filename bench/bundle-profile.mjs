// where the bytes of the facade's app bundle go: the bundle of startup.bench.mjs (esbuild,
// minified; OAuthClient, MemoryStore, importJwkKey, scope), broken down by package and by source
// file. by default it bundles the packages' src/ (through the source condition, no build needed),
// which comes within a few hundred bytes of the built dist; `--dist` bundles what users install.
// beside each package, about how much of it is the text of string literals (messages, protocol
// names): each of its files minified alone, its literals counted, scaled to its bytes in the
// bundle. `--out <file>` keeps the minified bundle to read. run: node bench/bundle-profile.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { transform } from 'esbuild';

import { bundleForApp } from './lib/app-bundle.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.argv.includes('--dist');
const outIndex = process.argv.indexOf('--out');

const { bytes, metafile } = await bundleForApp({
	name: '@atcute/oauth-node-client',
	names: 'OAuthClient, MemoryStore, importJwkKey, scope',
	dir: here,
	workingDir: here,
	conditions: dist ? [] : ['@atcute-oauth/source'],
});
if (outIndex !== -1) writeFileSync(process.argv[outIndex + 1], bytes);

// the bytes of string and template literal text in minified code (regular expressions skipped)
const literalBytes = (code) => {
	let total = 0;
	for (let i = 0; i < code.length; i++) {
		const quote = code[i];
		if (quote === '/' && /[=(,:;!&|?{}]/.test(code[i - 1])) {
			for (let inClass = false; code[++i] !== '/' || inClass; ) {
				if (code[i] === '\\') i++;
				else if (code[i] === '[') inClass = true;
				else if (code[i] === ']') inClass = false;
			}
			continue;
		}
		if (quote !== '"' && quote !== "'" && quote !== '`') continue;
		for (let depth = 0; code[++i] !== quote || depth > 0; ) {
			if (code[i] === '\\') i++;
			else if (quote === '`' && code[i] === '$' && code[i + 1] === '{') depth++;
			else if (depth > 0 && code[i] === '}') depth--;
			if (depth === 0) total++;
		}
		total += 2;
	}
	return total;
};

const files = [];
for (const [path, { bytesInOutput }] of Object.entries(Object.values(metafile.outputs)[0].inputs)) {
	if (bytesInOutput === 0) continue;
	const { code } = await transform(readFileSync(resolve(here, path), 'utf8'), { loader: 'ts', minify: true });
	const text = Math.round((literalBytes(code) * bytesInOutput) / code.length);
	files.push([path.replace(/^.*?packages\//, ''), bytesInOutput, text]);
}
const byPackage = new Map();
for (const [path, size, text] of files) {
	const owner = path.split('/')[0];
	const [sum, sumText] = byPackage.get(owner) ?? [0, 0];
	byPackage.set(owner, [sum + size, sumText + text]);
}

const kB = (size) => (size / 1000).toFixed(1);
const allText = [...byPackage.values()].reduce((sum, [, text]) => sum + text, 0);
console.log(
	`bundle ${kB(bytes.length)} kB, gzip ${kB(gzipSync(bytes).length)} kB (${dist ? 'dist' : 'src'}), of which literal text about ${kB(allText)} kB`,
);
for (const [owner, [size, text]] of [...byPackage].sort((a, b) => b[1][0] - a[1][0])) {
	console.log(`\n${owner} ${kB(size)} kB, of which literal text about ${kB(text)} kB`);
	const own = files.filter(([path]) => path.startsWith(`${owner}/`)).sort((a, b) => b[1] - a[1]);
	for (const [path, fileSize, fileText] of own) {
		console.log(
			`  ${String(fileSize).padStart(6)} ${String(fileText).padStart(6)}  ${path.slice(owner.length + 1)}`,
		);
	}
}
