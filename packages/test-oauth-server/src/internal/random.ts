import { randomBytes } from 'node:crypto';

/** random hex of `bytes` bytes, behind `prefix`: the reference server's `cod-`, `ref-`, `req-` style. */
export const randomHex = (prefix: string, bytes = 32): string => {
	return prefix + randomBytes(bytes).toString('hex');
};

/** random base64url text of `bytes` bytes. */
export const randomBase64url = (bytes = 16): string => {
	return randomBytes(bytes).toString('base64url');
};

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `length` random lowercase base32 characters (`a-z`, `2-7`). */
export const randomBase32 = (length: number): string => {
	let text = '';
	for (const byte of randomBytes(length)) {
		text += BASE32[byte % 32];
	}
	return text;
};

/** a random, well-formed `did:plc:` identifier (24 base32 characters). */
export const randomDidPlc = (): string => {
	return `did:plc:${randomBase32(24)}`;
};
