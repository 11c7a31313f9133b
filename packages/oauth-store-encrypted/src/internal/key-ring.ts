import type { StoreKey } from '../store-key.ts';
import { decodeBase64url } from './base64url.ts';

/** AES-256: 32 bytes. */
const KEY_BYTES = 32;
/** what a key id may hold: it is written into every entry and into the authenticated data. */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** one key of the ring, imported into WebCrypto on first use and cached. */
export interface RingKey {
	readonly id: string;
	/** the imported key; one import per key and process, shared by every caller. */
	cryptoKey(): Promise<CryptoKey>;
}

/** the validated key ring: the first key encrypts, any key decrypts. */
export interface KeyRing {
	readonly primary: RingKey;
	readonly byId: ReadonlyMap<string, RingKey>;
}

/**
 * checks `keys` and prepares them for use. every message names the option and the index, never
 * the value: a secret pasted into the wrong field must not end up in a log.
 */
export const createKeyRing = (keys: unknown, option = 'keys'): KeyRing => {
	if (!Array.isArray(keys) || keys.length === 0) {
		throw new TypeError(`${option} must be a non-empty array of { id, secret }; the first one encrypts`);
	}
	const byId = new Map<string, RingKey>();
	for (const [index, entry] of keys.entries()) {
		const at = `${option}[${index}]`;
		if (typeof entry !== 'object' || entry === null) {
			throw new TypeError(`${at} must be an object { id, secret }`);
		}
		const { id, secret } = entry as Partial<StoreKey>;
		if (typeof id !== 'string' || !KEY_ID.test(id)) {
			throw new TypeError(`${at}.id must be 1 to 64 characters of A-Z a-z 0-9 . _ -`);
		}
		if (decodeBase64url(id)?.length === KEY_BYTES) {
			// ids are written in clear into every entry: one shaped like a secret probably is one
			throw new TypeError(
				`${at}.id looks like a secret (base64url of 32 bytes): ids are stored in clear, secrets go in .secret`,
			);
		}
		if (byId.has(id)) {
			throw new TypeError(`${at}.id is used by an earlier key too: every key needs its own id`);
		}
		byId.set(id, ringKey(id, decodeSecret(secret, `${at}.secret`)));
	}
	return { primary: byId.values().next().value!, byId };
};

/** the 32 bytes of a secret, or a TypeError that says what is wrong with it without showing it. */
const decodeSecret = (secret: unknown, name: string): Uint8Array => {
	const expected = `the base64url text (no padding, 43 characters) of ${KEY_BYTES} random bytes`;
	if (typeof secret !== 'string') {
		throw new TypeError(`${name} must be ${expected}; got ${secret === null ? 'null' : typeof secret}`);
	}
	const bytes = decodeBase64url(secret);
	if (bytes === undefined) {
		// the length is safe to tell; the characters are not
		throw new TypeError(
			`${name} must be ${expected}; got ${secret.length} characters that are not valid base64url`,
		);
	}
	if (bytes.length !== KEY_BYTES) {
		throw new TypeError(`${name} must be ${expected}; got ${bytes.length} bytes`);
	}
	// 32 equal bytes (AAAA…) is a placeholder left in a config, not a random key
	if (bytes.every((byte) => byte === bytes[0])) {
		throw new TypeError(`${name} must be ${expected}; got 32 equal bytes, a placeholder`);
	}
	return bytes;
};

const ringKey = (id: string, raw: Uint8Array): RingKey => {
	let imported: Promise<CryptoKey> | undefined;
	return {
		id,
		cryptoKey: () =>
			// not extractable: the secret cannot be read back out of the CryptoKey
			(imported ??= crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
				'encrypt',
				'decrypt',
			])),
	};
};
