const ESCAPES: Record<string, string> = {
	'&': '&amp;',
	'<': '&lt;',
	'>': '&gt;',
	'"': '&quot;',
	"'": '&#39;',
};
const ESCAPED = /[&<>"']/g;

/** escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (value: string): string => value.replace(ESCAPED, (ch) => ESCAPES[ch]!);

/** markup that is already safe: built by `html`, never from raw input. */
export class SafeHtml {
	constructor(readonly value: string) {}

	toString(): string {
		return this.value;
	}
}

/** marks a constant of this module's own as markup; never pass it input. */
export const trusted = (markup: string): SafeHtml => new SafeHtml(markup);

const render = (value: unknown): string => {
	if (value instanceof SafeHtml) return value.value;
	if (Array.isArray(value)) return value.map(render).join('');
	if (value === undefined || value === null || value === false) return '';
	// everything else is text: user input, handles, DIDs and error codes all go through here
	return escapeHtml(String(value));
};

/** a template tag that escapes every interpolated value unless it is itself `html`. */
export const html = (strings: TemplateStringsArray, ...values: unknown[]): SafeHtml => {
	let out = strings[0]!;
	for (let i = 0; i < values.length; i++) {
		out += render(values[i]) + strings[i + 1]!;
	}
	return new SafeHtml(out);
};
