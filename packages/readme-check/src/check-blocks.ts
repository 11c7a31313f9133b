import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import ts from 'typescript';

import type { ReadmeBlock } from './extract-blocks.ts';

/** a block written to disk for the compiler. */
export interface WrittenBlock {
	block: ReadmeBlock;
	/** the absolute path of the `.ts` file, as written in the README (for the compiler). */
	file: string;
	/** the same block with workspace imports pointed at their source files (for running it). */
	runFile: string;
	/** how many lines precede the block's code in the file (the module marker and the context). */
	offset: number;
}

/** one compiler complaint, at the README line it comes from. */
export interface BlockDiagnostic {
	readme: string;
	/** the README line (1-based). */
	line: number;
	message: string;
}

const IMPORT_SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"]+)\2/g;

/**
 * writes each block as its own module into `dir` (`<readme path>-L<line>.ts`), once as written
 * and once with the workspace's packages imported from their source files (`paths`), which is
 * what a runtime without tsconfig paths can import.
 */
export const writeBlocks = (
	dir: string,
	blocks: readonly ReadmeBlock[],
	paths: ReadonlyMap<string, string>,
): WrittenBlock[] => {
	mkdirSync(dir, { recursive: true });
	return blocks.map((block) => {
		const name = `${block.readme.replace(/[^\w.-]+/g, '_')}-L${block.line}`;
		const extension = block.kind === 'ts' ? 'ts' : 'mjs';
		const file = join(dir, `${name}.${extension}`);
		const runFile = join(dir, `${name}.run.${extension}`);
		// `export {}`: every block is a module, so top-level await works and names stay apart
		const header = `export {};\n${block.context}`;
		const text = `${header}${block.code}\n`;
		writeFileSync(file, text);
		writeFileSync(
			runFile,
			text.replace(IMPORT_SPECIFIER, (whole, lead: string, quote: string, specifier: string) => {
				const target = paths.get(specifier);
				return target === undefined ? whole : `${lead}${quote}${target}${quote}`;
			}),
		);
		return { block, file, runFile, offset: header.split('\n').length - 1 };
	});
};

/**
 * type-checks every written block in one program, with the workspace's compiler options
 * (`tsconfig.base.json` at `root`: strict, the source condition) and the workspace's packages
 * mapped by `paths`, and returns the complaints about the blocks themselves, at their README
 * lines. other modules resolve from where the blocks are written.
 */
export const checkBlocks = (
	root: string,
	written: readonly WrittenBlock[],
	paths: ReadonlyMap<string, string>,
): BlockDiagnostic[] => {
	const configPath = join(root, 'tsconfig.base.json');
	const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
	if (error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
	const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, configPath);

	const program = ts.createProgram(
		written.map((w) => w.file),
		// the workspace's packages by name, wherever the block sits: the same source files the
		// source condition gives the packages themselves, so no build is needed
		// JavaScript blocks are checked too (imports, names, calls), as plain JS: see below
		{
			...options,
			noEmit: true,
			// blocks declare nothing for others: isolatedDeclarations (which forbids allowJs) is moot
			declaration: false,
			isolatedDeclarations: false,
			allowJs: true,
			checkJs: true,
			paths: Object.fromEntries([...paths].map(([name, file]) => [name, [file]])),
		},
	);
	const byFile = new Map(written.map((w) => [ts.sys.resolvePath(w.file), w]));

	const found: BlockDiagnostic[] = [];
	for (const diagnostic of program.getOptionsDiagnostics().concat(program.getGlobalDiagnostics())) {
		found.push({
			readme: '(compiler)',
			line: 0,
			message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
		});
	}
	for (const source of program.getSourceFiles()) {
		const w = byFile.get(ts.sys.resolvePath(source.fileName));
		if (w === undefined) continue;
		const diagnostics = [
			...program.getSyntacticDiagnostics(source),
			...program.getSemanticDiagnostics(source),
		];
		for (const diagnostic of diagnostics) {
			// JavaScript has no annotations: "implicitly has an 'any' type" (the 7xxx codes) is no fault there
			if (w.block.kind === 'js' && diagnostic.code >= 7000 && diagnostic.code < 8000) continue;
			const fileLine =
				diagnostic.start === undefined ? 0 : source.getLineAndCharacterOfPosition(diagnostic.start).line;
			// a complaint about the hidden context is reported at the fence
			const line = fileLine < w.offset ? w.block.line - 1 : w.block.line + fileLine - w.offset;
			found.push({
				readme: w.block.readme,
				line,
				message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
			});
		}
	}
	return found;
};
