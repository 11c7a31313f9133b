import { StoreDecryptionError } from '../errors.ts';
import { decodeBase64url, encodeBase64url } from './base64url.ts';
import { checkEntryKey } from './entry-key.ts';
import { KEY_ID } from './key-id.ts';
import type { KeyRing } from './key-ring.ts';

/** the format version this package writes and reads; it is part of the authenticated data. */
export const FORMAT_VERSION = 1;
/** AES-GCM's recommended IV length: 96 bits, drawn fresh for every write. */
const IV_BYTES = 12;
/** AES-GCM's authentication tag: 128 bits, the WebCrypto default and the most we can get. */
const TAG_BYTES = 16;

/**
 * what the wrapped store holds for each entry: a JSON object every store can keep (base64url
 * text and a number), however it serialises. `exp` repeats the `expiresAt` the entry was set
 * with, so a rewrap can keep it.
 */
export interface Envelope {
	v: typeof FORMAT_VERSION;
	/** the id of the key that encrypted it. */
	kid: string;
	/** the 96-bit IV, base64url. */
	iv: string;
	/** the ciphertext followed by the 128-bit tag, base64url. */
	ct: string;
	/** the entry's expiresAt, milliseconds since the epoch, when it was set with one. */
	exp?: number;
}

/** the fields every envelope has: a stored object with two of them is taken for one. */
const ENVELOPE_FIELDS = ['v', 'kid', 'iv', 'ct'] as const;

/**
 * whether a stored value is (or claims to be) one of our envelopes rather than a plaintext value.
 * two of its four fields are enough: an envelope that lost one is damaged (`malformed`), and must
 * never be read as a plaintext value (with `allowPlaintext`, or re-encrypted as one by `rewrap`,
 * which would bury what is left of it). our plaintext values, sessions and states, have none.
 */
export const isEnvelopeLike = (value: unknown): value is Record<keyof Envelope, unknown> => {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
	let found = 0;
	for (const field of ENVELOPE_FIELDS) if (field in value) found++;
	return found >= 2;
};

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * the additional authenticated data: the format version, the key id, the expiry and the entry's
 * key (last, so it may hold any character). binding the entry's key means a ciphertext copied
 * under another DID does not decrypt; binding the key id and version stops downgrades and swaps.
 * @throws {TypeError} for an entry key with a lone surrogate (see `checkEntryKey`)
 */
const additionalData = (entryKey: string, kid: string, exp: number | undefined): Uint8Array<ArrayBuffer> => {
	// UTF-8 cannot hold a lone surrogate: TextEncoder would make it U+FFFD, the same for every one
	checkEntryKey(entryKey);
	return encoder.encode(`atcute-oauth-store-encrypted\n${FORMAT_VERSION}\n${kid}\n${exp ?? ''}\n${entryKey}`);
};

/** encrypts `text` (the value's JSON) for `entryKey` under the ring's first key. */
export const sealEnvelope = async (
	ring: KeyRing,
	entryKey: string,
	text: string,
	exp: number | undefined,
): Promise<Envelope> => {
	const { primary } = ring;
	// a fresh random IV per write: an IV reused under one key breaks GCM's confidentiality and integrity
	const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
	const sealed = await crypto.subtle.encrypt(
		{
			name: 'AES-GCM',
			iv,
			additionalData: additionalData(entryKey, primary.id, exp),
			tagLength: TAG_BYTES * 8,
		},
		await primary.cryptoKey(),
		encoder.encode(text),
	);
	const envelope: Envelope = {
		v: FORMAT_VERSION,
		kid: primary.id,
		iv: encodeBase64url(iv),
		ct: encodeBase64url(new Uint8Array(sealed)),
	};
	if (exp !== undefined) envelope.exp = exp;
	return envelope;
};

/**
 * checks an envelope's fields, returning it typed, or throws the `StoreDecryptionError` that
 * says what is wrong. nothing here needs a key.
 */
export const checkEnvelope = (entryKey: string, value: Record<keyof Envelope, unknown>): Envelope => {
	const { v, kid, iv, ct, exp } = value;
	// only a key id the ring could hold is named (in the error, the report's byKeyId, logs)
	const keyId = typeof kid === 'string' && KEY_ID.test(kid) ? kid : undefined;
	const fail = (code: 'malformed' | 'unsupported_version', why: string): never => {
		throw new StoreDecryptionError(code, entryKey, keyId, describe(entryKey, keyId, why));
	};
	if (typeof v === 'number' && Number.isInteger(v) && v > FORMAT_VERSION) {
		fail('unsupported_version', `it was written in format ${v}; this version reads format ${FORMAT_VERSION}`);
	}
	if (v !== FORMAT_VERSION) fail('malformed', 'its format version is not valid');
	if (keyId === undefined) fail('malformed', 'its key id is not 1 to 64 characters of A-Z a-z 0-9 . _ -');
	if (typeof iv !== 'string' || typeof ct !== 'string') fail('malformed', 'its iv or ct is not a string');
	if (exp !== undefined && (typeof exp !== 'number' || !Number.isFinite(exp))) {
		fail('malformed', 'its exp is not a number');
	}
	return value as Envelope;
};

/** decrypts a checked envelope stored under `entryKey` back to the value's JSON text. */
export const openEnvelope = async (ring: KeyRing, entryKey: string, envelope: Envelope): Promise<string> => {
	const { kid, exp } = envelope;
	const key = ring.byId.get(kid);
	if (key === undefined) {
		throw new StoreDecryptionError(
			'unknown_key',
			entryKey,
			kid,
			describe(
				entryKey,
				kid,
				'that key id is not in the key ring (retired too early, or not yet deployed here)',
			),
		);
	}
	const iv = decodeBase64url(envelope.iv);
	const sealed = decodeBase64url(envelope.ct);
	if (iv?.length !== IV_BYTES || sealed === undefined || sealed.length < TAG_BYTES) {
		throw new StoreDecryptionError(
			'malformed',
			entryKey,
			kid,
			describe(entryKey, kid, 'its iv or ct is not valid base64url of the right length'),
		);
	}
	let opened: ArrayBuffer;
	try {
		opened = await crypto.subtle.decrypt(
			{
				name: 'AES-GCM',
				iv: iv as Uint8Array<ArrayBuffer>,
				additionalData: additionalData(entryKey, kid, exp),
				tagLength: TAG_BYTES * 8,
			},
			await key.cryptoKey(),
			sealed as Uint8Array<ArrayBuffer>,
		);
	} catch (err) {
		// GCM's tag check failed: tampered, moved from another entry, or another secret under this id
		throw new StoreDecryptionError(
			'authentication_failed',
			entryKey,
			kid,
			describe(
				entryKey,
				kid,
				'it was changed, copied from another entry, or encrypted with another secret under this key id',
			),
			{ cause: err },
		);
	}
	try {
		return decoder.decode(opened);
	} catch {
		// authenticated but not UTF-8: written by something that is not this package
		throw new StoreDecryptionError(
			'malformed',
			entryKey,
			kid,
			describe(entryKey, kid, 'it is not UTF-8 text'),
		);
	}
};

const describe = (entryKey: string, kid: string | undefined, why: string): string =>
	`cannot decrypt the entry ${JSON.stringify(entryKey)}${kid === undefined ? '' : ` (key id ${JSON.stringify(kid)})`}: ${why}`;
