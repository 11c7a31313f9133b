const encoder = new TextEncoder();
// String.fromCharCode takes its arguments on the stack: convert in slices this long
const CHUNK = 0x8000;

/** the runtime's own encoder (ES2026 `Uint8Array.prototype.toBase64`), where it has one. */
const nativeToBase64 = (Uint8Array.prototype as { toBase64?: (this: Uint8Array, options: object) => string })
	.toBase64;
/** Node's and Bun's `Buffer`, where there is one: far faster than `btoa` on Node 20. */
const NodeBuffer = (
	globalThis as {
		Buffer?: {
			from(buffer: ArrayBufferLike, offset: number, length: number): { toString(encoding: string): string };
			from(text: string, encoding: 'utf8'): { toString(encoding: string): string };
		};
	}
).Buffer;

/** base64url without padding through `btoa`, for runtimes with neither of the above. */
export const base64urlEncodePortable = (bytes: Uint8Array): string => {
	return base64Encode(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/**
 * base64url without padding, of bytes or of a string's UTF-8 bytes.
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-2
 */
export const base64urlEncode = (input: Uint8Array | string): string => {
	if (typeof input === 'string' && nativeToBase64 === undefined && NodeBuffer !== undefined) {
		// text straight into a Buffer: half the cost of TextEncoder and a view of its bytes, on every
		// DPoP proof's claims (the same UTF-8, lone surrogates written as U+FFFD by both)
		return NodeBuffer.from(input, 'utf8').toString('base64url');
	}
	const bytes = typeof input === 'string' ? encoder.encode(input) : input;
	if (nativeToBase64 !== undefined) {
		return nativeToBase64.call(bytes, { alphabet: 'base64url', omitPadding: true });
	}
	if (NodeBuffer !== undefined) {
		return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
	}
	return base64urlEncodePortable(bytes);
};

/**
 * the bytes of base64url text without padding, or `undefined` unless the text is exactly what
 * `base64urlEncode` makes of them (no padding, whitespace, other alphabet or stray trailing bits).
 */
export const base64urlDecode = (text: string): Uint8Array<ArrayBuffer> | undefined => {
	if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
	const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
	const bytes = base64Decode(base64);
	return base64urlEncode(bytes) === text ? bytes : undefined;
};

/** the bytes of standard base64 text (PEM bodies); throws on anything else. */
export const base64Decode = (text: string): Uint8Array<ArrayBuffer> => {
	const binary = atob(text);
	const bytes = new Uint8Array(binary.length);
	for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
	return bytes;
};

/** standard base64 of bytes, with padding (PEM bodies). */
export const base64Encode = (bytes: Uint8Array): string => {
	let binary = '';
	for (let i = 0; i < bytes.length; i += CHUNK) {
		// apply, not spread: spreading a typed array walks its iterator, several times slower
		binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
	}
	return btoa(binary);
};
