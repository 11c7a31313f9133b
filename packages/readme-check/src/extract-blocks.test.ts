import { describe, expect, it } from 'vitest';

import { extractBlocks, ReadmeMarkError } from './extract-blocks.ts';

const md = (...lines: string[]): string => lines.join('\n');

describe('extractBlocks', () => {
	it('takes ts, typescript and js blocks with the line of their first code line, and no others', () => {
		const blocks = extractBlocks(
			md(
				'# title',
				'```ts',
				'const a = 1;',
				'```',
				'```sh',
				'ls',
				'```',
				'```typescript',
				'let b;',
				'```',
				'```js',
				'x',
				'```',
				'```json',
				'{}',
				'```',
			),
			'README.md',
		);
		expect(blocks.map((b) => [b.line, b.kind, b.code])).toEqual([
			[3, 'ts', 'const a = 1;'],
			[9, 'ts', 'let b;'],
			[12, 'js', 'x'],
		]);
	});

	it('removes the indentation of a block inside a list item', () => {
		const [block] = extractBlocks(
			md('1. step', '', '   ```ts', '   if (x) {', '   \treturn;', '   }', '   ```'),
			'R.md',
		);
		expect(block!.code).toBe('if (x) {\n\treturn;\n}');
	});

	it('does not end a block at a shorter or different fence inside it', () => {
		const [block] = extractBlocks(md('````ts', 'const s = `', '```', '`;', '````'), 'R.md');
		expect(block!.code).toBe('const s = `\n```\n`;');
	});

	it('reads the marks written above a block, and only those directly above it', () => {
		const blocks = extractBlocks(
			md(
				'<!-- context: declare const a: number; -->',
				'<!-- run -->',
				'',
				'```ts',
				'a;',
				'```',
				'<!-- not-checked: needs a live PDS and a browser -->',
				'```ts',
				'b;',
				'```',
				'<!-- context: declare const c: string; -->',
				'some prose between',
				'```ts',
				'c;',
				'```',
			),
			'R.md',
		);
		expect(blocks.map((b) => [b.context, b.run, b.skipReason])).toEqual([
			['declare const a: number;\n', true, undefined],
			['', false, 'needs a live PDS and a browser'],
			['', false, undefined],
		]);
	});

	it('takes a context written over several lines', () => {
		const [block] = extractBlocks(
			md(
				'<!-- context:',
				"import type { Hono } from 'hono';",
				'declare const app: Hono;',
				'-->',
				'```ts',
				'app;',
				'```',
			),
			'R.md',
		);
		expect(block!.context).toBe("import type { Hono } from 'hono';\ndeclare const app: Hono;\n");
	});

	it('refuses not-checked without a reason', () => {
		expect(() => extractBlocks(md('<!-- not-checked -->', '```ts', 'x', '```'), 'R.md')).toThrow(
			ReadmeMarkError,
		);
		expect(() => extractBlocks(md('<!-- not-checked: -->', '```ts', 'x', '```'), 'R.md')).toThrow(
			/needs a reason/,
		);
	});

	it('refuses a misspelt mark instead of ignoring it', () => {
		expect(() => extractBlocks(md('<!-- notchecked: old API -->', '```ts', 'x', '```'), 'R.md')).toThrow(
			/R\.md:2: unknown mark/,
		);
		expect(() => extractBlocks(md('<!-- runs -->', '```ts', 'x', '```'), 'R.md')).toThrow(ReadmeMarkError);
	});

	it('leaves other comments alone', () => {
		const [block] = extractBlocks(md('<!-- prettier-ignore -->', '```ts', 'x', '```'), 'R.md');
		expect(block).toMatchObject({ context: '', run: false, skipReason: undefined });
	});
});
