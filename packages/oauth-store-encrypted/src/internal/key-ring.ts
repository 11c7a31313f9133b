import type { StoreKey } from '../store-key.ts';
import { decodeBase64url, encodeBase64url } from './base64url.ts';
import { keyIdProblem } from './key-id.ts';
import { keyPosition, keySourceOf } from './key-source.ts';

/** AES-256: 32 bytes. */
const KEY_BYTES = 32;

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
 * checks `keys` and prepares them for use. every message names the option (or the environment
 * variable `parseStoreKeys` read the keys from) and the position, never the value: a secret
 * pasted into the wrong field must not end up in a log.
 */
export const createKeyRing = (keys: unknown, option = 'keys'): KeyRing => {
	if (!Array.isArray(keys) || keys.length === 0) {
		throw new TypeError(`${option} must be a non-empty array of { id, secret }; the first one encrypts`);
	}
	const name = keySourceOf(keys) ?? option;
	const byId = new Map<string, RingKey>();
	/** where each secret was seen first, by its canonical base64url: two ids for one secret. */
	const bySecret = new Map<string, { at: string; id: string }>();
	for (const [index, entry] of keys.entries()) {
		const at = keyPosition(name, index);
		if (typeof entry !== 'object' || entry === null) {
			throw new TypeError(`${at} must be an object { id, secret }`);
		}
		const { id, secret } = entry as Partial<StoreKey>;
		const problem = keyIdProblem(id, `${at}.id`);
		if (problem !== undefined) throw new TypeError(problem);
		const keyId = id as string;
		if (byId.has(keyId)) {
			throw new TypeError(`${at}.id is used by an earlier key too: every key needs its own id`);
		}
		const bytes = decodeSecret(secret, `${at}.secret`);
		const canonical = encodeBase64url(bytes);
		const earlier = bySecret.get(canonical);
		if (earlier !== undefined) {
			// one secret under two ids: a "rotation" that changes nothing. names positions and ids only
			throw new TypeError(
				`${at} (id ${JSON.stringify(keyId)}) has the same secret as ${earlier.at} (id ${JSON.stringify(earlier.id)}): every key needs its own secret`,
			);
		}
		bySecret.set(canonical, { at, id: keyId });
		byId.set(keyId, ringKey(keyId, bytes));
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
