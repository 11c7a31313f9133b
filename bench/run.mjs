// runs every bench/*.bench.mjs (or those whose names contain an argument) against the built
// packages, so what is measured is what users install. `pnpm bench` builds first.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// `--flags` are for the bench files themselves (e.g. `pnpm bench stores --scale`)
const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const files = readdirSync(here)
	.filter((name) => name.endsWith('.bench.mjs'))
	.filter((name) => filters.length === 0 || filters.some((filter) => name.includes(filter)))
	.sort();

if (files.length === 0) {
	console.error(`no bench file matches ${filters.join(', ')}`);
	process.exit(1);
}
console.log(`node ${process.version}, ${process.platform}-${process.arch}`);
for (const file of files) {
	console.log(`\n=== ${file}`);
	await import(join(here, file));
}
