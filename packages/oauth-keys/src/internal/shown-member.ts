/** how much of a member's text an error repeats: more than any real kid, alg, curve or use. */
const MAX_SHOWN = 64;
/** how many entries of a list (`key_ops`) an error repeats. */
const MAX_ENTRIES = 8;

const shownText = (text: string): string =>
	// JSON.stringify of a string never throws, and escapes controls and lone surrogates
	JSON.stringify(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);

/**
 * a key's member (or an option) as an error names it. the key comes from the app's configuration,
 * which may hand over anything: JSON.stringify would throw on a bigint or a cycle (a TypeError in
 * place of the InvalidKeyError), and on a deeply nested value (a RangeError), and repeat a long
 * value whole. so: text and short lists of text quoted and cut, other values named by their kind.
 */
export const shownMember = (value: unknown): string => {
	if (typeof value === 'string') return shownText(value);
	if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') {
		return String(value);
	}
	if (Array.isArray(value)) {
		if (value.length <= MAX_ENTRIES && value.every((entry) => typeof entry === 'string')) {
			return `[${value.map(shownText).join(',')}]`;
		}
		return `an array of ${value.length}`;
	}
	return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
};
