// a value kept as one flat string: its JSON, with each long base64url string (tokens, key
// parameters) replaced by its bytes, one character per byte. a session's two ~900-character
// tokens take 675 characters each that way, and one string has one header instead of a dozen
// objects and strings.

// a long base64url string becomes the JSON string "\u0001<n>" (n: its place among the runs).
// a value of the caller's could hold the same text: such a value is kept as plain JSON instead
const MARK = '\u0001';
const PLACEHOLDER = /"\\u0001(\d+)"/g;
const DIGITS = /^\d+$/;
/** the shortest string worth keeping as bytes: a P-256 key parameter is 43 characters. */
const MIN_LENGTH = 32;
const BASE64URL = /^[\w-]+$/;

type Latin1Codec = {
	/** base64url text to one character per byte. */
	toBytes: (text: string) => string;
	/** one character per byte to base64url text, unpadded. */
	toText: (bytes: string) => string;
};

// node:buffer where the runtime has it (several times faster than atob/btoa on Node 20), else
// the web's atob/btoa, which every runtime has. chosen on first use: nothing runs at import, so a
// bundle that never uses the compact codec drops all of this
let latin1: Latin1Codec | undefined;
const latin1Codec = (): Latin1Codec => {
	if (latin1 !== undefined) return latin1;
	const { Buffer: NodeBuffer } = globalThis as unknown as {
		Buffer?: { from(text: string, encoding: string): { toString(encoding: string): string } };
	};
	latin1 =
		NodeBuffer !== undefined
			? {
					toBytes: (text) => NodeBuffer.from(text, 'base64url').toString('latin1'),
					toText: (bytes) => NodeBuffer.from(bytes, 'latin1').toString('base64url'),
				}
			: {
					toBytes: (text) => atob(text.replaceAll('-', '+').replaceAll('_', '/')),
					toText: (bytes) => btoa(bytes).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''),
				};
	return latin1;
};

/**
 * encodes a JSON-serialisable value as one string: `<json length>|<json><length>,<bytes>…`,
 * where the JSON holds `"\u0001<n>"` in place of the n-th long base64url string.
 * @throws {TypeError} when the value has no JSON form
 */
export const encodeValue = (value: unknown): string => {
	const runs: string[] = [];
	const replacer = (_key: string, item: unknown): unknown => {
		if (typeof item !== 'string' || item.length < MIN_LENGTH || !BASE64URL.test(item)) return item;
		let bytes: string;
		try {
			bytes = latin1Codec().toBytes(item);
		} catch {
			return item;
		}
		// only a string that comes back exactly (canonical, unpadded) is kept as bytes
		if (latin1Codec().toText(bytes) !== item) return item;
		runs.push(bytes);
		return `${MARK}${runs.length - 1}`;
	};
	let json: string | undefined;
	try {
		json = JSON.stringify(value, replacer);
	} catch (error) {
		// the replacer's calls run out of stack well before JSON.stringify's own (about 2,000 levels
		// against 4,000): a value too deep is the caller's, as one with no JSON form is
		if (error instanceof RangeError) {
			throw new TypeError('a compact MemoryStore keeps JSON values nested less deeply than this one', {
				cause: error,
			});
		}
		throw error;
	}
	if (json === undefined) {
		throw new TypeError('a compact MemoryStore keeps JSON values only; this value has no JSON form');
	}
	// every run's placeholder appears once; any other match is the caller's own text, and then the
	// placeholders could not be told apart from it: keep the value as plain JSON
	if (runs.length > 0 && json.match(PLACEHOLDER)?.length !== runs.length) {
		const plain = JSON.stringify(value);
		return [`${plain.length}|`, plain].join('');
	}
	const parts = [`${json.length}|`, json];
	for (const run of runs) parts.push(`${run.length},`, run);
	// join builds one flat string: `+=` would keep a tree of the pieces, each with its own header
	return parts.join('');
};

/** decodes what `encodeValue` made into a fresh value. */
export const decodeValue = (text: string): unknown => {
	const bar = text.indexOf('|');
	let at = bar + 1 + Number(text.slice(0, bar));
	const json = text.slice(bar + 1, at);
	if (at === text.length) return JSON.parse(json);

	const runs: string[] = [];
	while (at < text.length) {
		const comma = text.indexOf(',', at);
		const end = comma + 1 + Number(text.slice(at, comma));
		runs.push(text.slice(comma + 1, end));
		at = end;
	}
	// parse the small JSON, then put each run's base64url text where its placeholder is: no
	// other string is a placeholder (encodeValue checked), and no 2 kB text is built and parsed
	return restore(JSON.parse(json), runs);
};

/** replaces placeholder strings in a parsed value, in place; returns the value. */
const restore = (value: unknown, runs: readonly string[]): unknown => {
	if (typeof value === 'string') {
		if (value[0] !== MARK) return value;
		const index = value.slice(1);
		return DIGITS.test(index) ? latin1Codec().toText(runs[Number(index)]!) : value;
	}
	if (typeof value !== 'object' || value === null) return value;
	if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++) value[i] = restore(value[i], runs);
		return value;
	}
	const record = value as Record<string, unknown>;
	for (const key in record) record[key] = restore(record[key], runs);
	return value;
};
