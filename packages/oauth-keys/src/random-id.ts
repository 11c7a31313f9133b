import { base64urlEncode } from './internal/base64url.ts';

/**
 * random bytes are drawn from the platform CSPRNG 4 KiB at a time and handed out in slices, each
 * slice once: a call to getRandomValues costs several microseconds on Node, and every DPoP proof
 * needs a fresh jti. the bytes are the same CSPRNG output, only fetched in bulk.
 */
const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let offset = 0;

const randomBytes = (length: number): Uint8Array => {
	if (length > POOL_BYTES) {
		return globalThis.crypto.getRandomValues(new Uint8Array(length));
	}
	if (offset + length > pool.length) {
		// a new buffer rather than a refill: slices handed out before stay as they were
		pool = globalThis.crypto.getRandomValues(new Uint8Array(POOL_BYTES));
		offset = 0;
	}
	const bytes = pool.subarray(offset, offset + length);
	offset += length;
	return bytes;
};

/**
 * a random identifier (JWT `jti`, OAuth `state`, PKCE verifier) from the platform CSPRNG,
 * base64url-encoded. 16 bytes (128 bits) by default: unguessable and collision-free.
 */
export const randomId = (byteLength = 16): string => {
	if (!(Number.isInteger(byteLength) && byteLength > 0)) {
		throw new TypeError(`byteLength must be a positive integer, got ${byteLength}`);
	}
	return base64urlEncode(randomBytes(byteLength));
};
