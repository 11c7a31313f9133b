import { decodeBase64url } from './base64url.ts';

/** what a key id may hold: it is written into every entry and into the authenticated data. */
export const KEY_ID: RegExp = /^[A-Za-z0-9._-]{1,64}$/;

/** a secret's length in bytes (AES-256), which an id must not look like. */
const SECRET_BYTES = 32;

/** hex of a secret's length or more: `openssl rand -hex 32`, the usual way to make one. */
const HEX_SECRET = new RegExp(`^[0-9A-Fa-f]{${SECRET_BYTES * 2},}$`);

/**
 * why `id` cannot name a key, or `undefined` when it can. one rule for the key ring,
 * `generateStoreKey` and the CLI, so no tool prints a key the ring then refuses. never repeats
 * the id: one shaped like a secret probably is one.
 */
export const keyIdProblem = (id: unknown, name: string): string | undefined => {
	if (typeof id !== 'string' || !KEY_ID.test(id)) {
		return `${name} must be 1 to 64 characters of A-Z a-z 0-9 . _ -`;
	}
	// ids are written in clear into every entry: one shaped like a secret probably is one. the two
	// shapes secrets come in: hex of 32 bytes or more (`openssl rand -hex 32`), and base64url of
	// exactly 32 bytes (ours). not any longer base64url: a readable id of 44 characters
	// (`production-session-encryption-key-2024-01-01`) decodes as well as a secret does
	if (HEX_SECRET.test(id)) {
		return `${name} looks like a secret (hex of 32 bytes or more): ids are stored in clear, secrets go in .secret`;
	}
	if (decodeBase64url(id)?.length === SECRET_BYTES) {
		return `${name} looks like a secret (base64url of 32 bytes): ids are stored in clear, secrets go in .secret`;
	}
	return undefined;
};
