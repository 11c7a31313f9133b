// a table-driven base64url codec (RFC 4648 §5, no padding): WebCrypto has none, `atob`/`btoa` go
// through binary strings and are slow on Node, and `Uint8Array.prototype.toBase64` is not yet on
// every runtime this package runs on.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** character code → 6-bit value, 255 for characters outside the alphabet. */
const DECODE = new Uint8Array(128).fill(255);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** the alphabet's character codes, for writing text as bytes. */
const CODES = new Uint8Array(64);
for (let i = 0; i < ALPHABET.length; i++) CODES[i] = ALPHABET.charCodeAt(i);
const ascii = new TextDecoder();

/** the runtime's own encoder (ES2026 `Uint8Array.prototype.toBase64`), where it has one. */
const nativeToBase64 = (Uint8Array.prototype as { toBase64?: unknown }).toBase64 as
	| ((this: Uint8Array, options: { alphabet: 'base64url'; omitPadding: boolean }) => string)
	| undefined;

/** bytes → base64url text without padding. */
export const encodeBase64url = (bytes: Uint8Array): string => {
	if (nativeToBase64 !== undefined)
		return nativeToBase64.call(bytes, { alphabet: 'base64url', omitPadding: true });
	// characters written as bytes then decoded once: about twice as fast as string concatenation
	const full = bytes.length - (bytes.length % 3);
	const rest = bytes.length - full;
	const out = new Uint8Array((full / 3) * 4 + (rest === 0 ? 0 : rest + 1));
	let o = 0;
	let i = 0;
	for (; i < full; i += 3) {
		const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
		out[o++] = CODES[n >> 18]!;
		out[o++] = CODES[(n >> 12) & 63]!;
		out[o++] = CODES[(n >> 6) & 63]!;
		out[o++] = CODES[n & 63]!;
	}
	if (rest > 0) {
		const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
		out[o++] = CODES[n >> 18]!;
		out[o++] = CODES[(n >> 12) & 63]!;
		if (rest === 2) out[o++] = CODES[(n >> 6) & 63]!;
	}
	return ascii.decode(out);
};

/** base64url text without padding → bytes, or undefined when it is not canonical base64url. */
export const decodeBase64url = (text: string): Uint8Array | undefined => {
	const length = text.length;
	// a remainder of 1 character encodes no whole byte
	if (length % 4 === 1) return undefined;
	const out = new Uint8Array(Math.floor((length * 3) / 4));
	let o = 0;
	let i = 0;
	const full = length - (length % 4);
	for (; i < full; i += 4) {
		const a = lookup(text, i);
		const b = lookup(text, i + 1);
		const c = lookup(text, i + 2);
		const d = lookup(text, i + 3);
		if ((a | b | c | d) > 63) return undefined;
		const n = (a << 18) | (b << 12) | (c << 6) | d;
		out[o++] = n >> 16;
		out[o++] = (n >> 8) & 255;
		out[o++] = n & 255;
	}
	const rest = length - full;
	if (rest > 0) {
		const a = lookup(text, i);
		const b = lookup(text, i + 1);
		const c = rest === 3 ? lookup(text, i + 2) : 0;
		if ((a | b | c) > 63) return undefined;
		// the unused low bits must be zero, so every byte string has exactly one encoding
		if (rest === 2 ? (b & 15) !== 0 : (c & 3) !== 0) return undefined;
		const n = (a << 18) | (b << 12) | (c << 6);
		out[o++] = n >> 16;
		if (rest === 3) out[o++] = (n >> 8) & 255;
	}
	return out;
};

const lookup = (text: string, index: number): number => {
	const code = text.charCodeAt(index);
	return code < 128 ? DECODE[code]! : 255;
};
