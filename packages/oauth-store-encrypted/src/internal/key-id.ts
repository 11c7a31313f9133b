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
	// ids are written in clear into every entry: one shaped like a secret probably is one. any
	// secret of 32 bytes or more, as hex or base64url, fits in 64 id characters
	if (HEX_SECRET.test(id)) {
		return `${name} looks like a secret (hex of 32 bytes or more): ids are stored in clear, secrets go in .secret`;
	}
	if ((decodeBase64url(id)?.length ?? 0) >= SECRET_BYTES) {
		return `${name} looks like a secret (base64url of 32 bytes or more): ids are stored in clear, secrets go in .secret; an id of 43 or more characters of A-Z a-z 0-9 - _ may be taken for one: make it shorter`;
	}
	return undefined;
};
