/** a fenced TypeScript or JavaScript block of a README, with the marks written just above it. */
export interface ReadmeBlock {
	/** `ts` for ```ts, ```typescript and ```mts blocks; `js` for ```js, ```javascript and ```mjs. */
	kind: 'ts' | 'js';
	/** the README's path, as given. */
	readme: string;
	/** the README line (1-based) of the block's first line of code. */
	line: number;
	/** the code, its fence's indentation removed. */
	code: string;
	/** hidden declarations the block is checked with (`<!-- context: ... -->`), or empty. */
	context: string;
	/** why the block is not checked (`<!-- not-checked: reason -->`), or `undefined`. */
	skipReason: string | undefined;
	/** whether the block is also run (`<!-- run -->`). */
	run: boolean;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;
const CHECKED_LANGUAGES = new Map<string, 'ts' | 'js'>([
	['ts', 'ts'],
	['typescript', 'ts'],
	['mts', 'ts'],
	['js', 'js'],
	['javascript', 'js'],
	['mjs', 'js'],
]);

/** a README mark the checker does not know, or one written wrong: stops the check, not skipped. */
export class ReadmeMarkError extends Error {
	override name = 'ReadmeMarkError';
}

/** the HTML comments directly above line `index` (blank lines between them allowed), top first. */
const commentsAbove = (lines: string[], index: number): string[] => {
	const comments: string[] = [];
	let i = index - 1;
	for (;;) {
		while (i >= 0 && lines[i]!.trim() === '') i--;
		if (i < 0 || !lines[i]!.trim().endsWith('-->')) return comments;
		let start = i;
		while (start >= 0 && !lines[start]!.includes('<!--')) start--;
		if (start < 0) return comments;
		const text = lines.slice(start, i + 1).join('\n');
		comments.unshift(text.slice(text.indexOf('<!--') + 4, text.lastIndexOf('-->')).trim());
		i = start - 1;
	}
};

/** removes `indent` (the fence's) from the start of a line, when it is there. */
const dedent = (line: string, indent: string): string =>
	line.startsWith(indent) ? line.slice(indent.length) : line.trimStart();

/**
 * the TypeScript (```ts, ```typescript, ```mts) and JavaScript (```js, ```javascript, ```mjs)
 * blocks of a markdown text, with their marks:
 * `<!-- not-checked: reason -->` (a reason is required), `<!-- context: declarations -->` and
 * `<!-- run -->`, each an HTML comment directly above the fence. comments that start with
 * `check` or name another mark are refused as typos.
 */
export const extractBlocks = (markdown: string, readme: string): ReadmeBlock[] => {
	const lines = markdown.split(/\r?\n/);
	const blocks: ReadmeBlock[] = [];

	for (let i = 0; i < lines.length; i++) {
		const open = FENCE.exec(lines[i]!);
		if (open === null) continue;
		const [, indent = '', fence = '', language = ''] = open;

		// find the closing fence: same character, at least as long, nothing after it
		let end = i + 1;
		while (end < lines.length) {
			const close = FENCE.exec(lines[end]!);
			if (
				close !== null &&
				close[2]!.startsWith(fence[0]!) &&
				close[2]!.length >= fence.length &&
				close[3] === ''
			) {
				break;
			}
			end++;
		}

		const kind = CHECKED_LANGUAGES.get(language.toLowerCase());
		if (kind !== undefined) {
			let context = '';
			let skipReason: string | undefined;
			let run = false;
			for (const comment of commentsAbove(lines, i)) {
				const where = `${readme}:${i + 1}`;
				if (comment.startsWith('not-checked')) {
					const reason = comment.slice('not-checked'.length).replace(/^:/, '').trim();
					if (reason === '') throw new ReadmeMarkError(`${where}: <!-- not-checked: --> needs a reason`);
					skipReason = reason;
				} else if (comment.startsWith('context:')) {
					context += `${comment.slice('context:'.length).trim()}\n`;
				} else if (comment === 'run') {
					run = true;
				} else if (/^(?:check|not[- ]?check|skip|context|run)/i.test(comment)) {
					throw new ReadmeMarkError(`${where}: unknown mark <!-- ${comment.split('\n')[0]} -->`);
				}
			}
			blocks.push({
				kind,
				readme,
				line: i + 2,
				code: lines
					.slice(i + 1, end)
					.map((line) => dedent(line, indent))
					.join('\n'),
				context,
				skipReason,
				run,
			});
		}
		i = end;
	}
	return blocks;
};
