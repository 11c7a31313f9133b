import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type BlockDiagnostic, checkBlocks, type WrittenBlock, writeBlocks } from './check-blocks.ts';
import { extractBlocks } from './extract-blocks.ts';
import { findReadmes } from './find-readmes.ts';
import { workspacePaths } from './workspace-paths.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
// inside this package, so the blocks' other imports (hono, ioredis, ...) resolve through its
// devDependencies; one folder per run, so two runs never share files
const outDir = fileURLToPath(new URL(`../.blocks/${process.pid}`, import.meta.url));
const paths = workspacePaths(root);
const readmes = findReadmes(root);
const blocks = readmes.flatMap((readme) => extractBlocks(readFileSync(join(root, readme), 'utf8'), readme));

// checked in the same program as the READMEs: proof, on every run, that a block that does not
// compile is reported (at its README line) and one that does is not
const FIXTURE = 'fixture/README.md';
const fixtureBlocks = extractBlocks(
	[
		'```ts',
		"import { parseScope } from '@atcute/oauth-scope';",
		"const parsed = parseScope('atproto');",
		'```',
		'',
		'```ts',
		"import { parseScope } from '@atcute/oauth-scope';",
		"const count: string = parseScope('atproto');",
		'```',
		'',
		'<!-- context: declare const given: number; -->',
		'```ts',
		'const doubled: number = given * 2;',
		'```',
	].join('\n'),
	FIXTURE,
);

const format = (d: BlockDiagnostic): string => `${d.readme}:${d.line}: ${d.message}`;

let written: WrittenBlock[];
let diagnostics: BlockDiagnostic[];

beforeAll(() => {
	written = writeBlocks(
		outDir,
		[...blocks, ...fixtureBlocks].filter((block) => block.skipReason === undefined),
		paths,
	);
	diagnostics = checkBlocks(root, written, paths);
}, 120_000);

afterAll(() => {
	rmSync(outDir, { recursive: true, force: true });
});

describe('README TypeScript blocks', () => {
	it('finds the READMEs of the workspace and their blocks', () => {
		expect(readmes).toContain('packages/oauth-node-client/README.md');
		expect(blocks.length).toBeGreaterThan(20);
	});

	it('reports a block that does not compile, at its README line, and only that one', () => {
		const fixture = diagnostics.filter((d) => d.readme === FIXTURE);
		expect(fixture.map((d) => d.line)).toEqual([8]);
		expect(fixture[0]!.message).toMatch(/not assignable to type 'string'/);
	});

	it('leaves the compiler itself without complaints', () => {
		expect(diagnostics.filter((d) => d.readme === '(compiler)').map(format)).toEqual([]);
	});

	it.each(readmes)('%s: every checked block compiles', (readme) => {
		expect(diagnostics.filter((d) => d.readme === readme).map(format)).toEqual([]);
	});

	it('leaves no block out: none is marked not-checked', () => {
		// a reason is required by the marker (see extract-blocks.test.ts); none is taken today, so a
		// sample that stops compiling cannot be hidden behind one without this test saying so
		const unchecked = blocks.filter((b) => b.skipReason !== undefined);
		expect(unchecked.map((b) => `${b.readme}:${b.line}: ${b.skipReason}`)).toEqual([]);
		expect(blocks.length).toBeGreaterThan(0);
	});
});

describe('README blocks marked <!-- run -->', () => {
	const runnable = blocks.filter((block) => block.run && block.skipReason === undefined);

	it.each(runnable.map((block) => [`${block.readme}:${block.line}`, block] as const))(
		'%s runs to the end',
		async (_where, block) => {
			const file = written.find((w) => w.block === block)!.runFile;
			await import(/* @vite-ignore */ pathToFileURL(file).href);
		},
	);
});
