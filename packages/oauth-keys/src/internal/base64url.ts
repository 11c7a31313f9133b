const encoder = new TextEncoder();
// String.fromCharCode takes its arguments on the stack: convert in slices this long
const CHUNK = 0x8000;

/**
 * base64url without padding, of bytes or of a string's UTF-8 bytes.
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-2
 */
export const base64urlEncode = (input: Uint8Array | string): string => {
	const bytes = typeof input === 'string' ? encoder.encode(input) : input;
	let binary = '';
	for (let i = 0; i < bytes.length; i += CHUNK) {
		binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
	}
	return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
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
		binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
	}
	return btoa(binary);
};
