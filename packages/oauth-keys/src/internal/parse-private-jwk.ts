import { InvalidKeyError } from '../errors.ts';
import { shownMember } from './shown-member.ts';

const describe = (value: unknown): string => {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'an array';
	return typeof value === 'string' ? 'a string' : `${typeof value}`;
};

/**
 * what an object that is not a JWK at all most likely is, with what to do instead, or undefined.
 * these mistakes used to surface as an unsupported "kty" null, which says nothing of the cause.
 */
const notAJwk = (record: Record<string, unknown>): string | undefined => {
	if (record.kty !== undefined) return undefined;
	if (Array.isArray(record.keys)) return 'a JWKS (an object with keys): pass one of its keys';
	if (typeof record.then === 'function') return 'a Promise: await it first';
	if (
		typeof record.sign === 'function' ||
		'cryptoKey' in record ||
		(typeof globalThis.CryptoKey === 'function' && record instanceof globalThis.CryptoKey)
	) {
		return 'an already imported key: use it as is';
	}
	return undefined;
};

/** whether `value` is an array whose every element (holes included) is a string. */
const isStringArray = (value: unknown): value is readonly string[] => {
	if (!Array.isArray(value)) return false;
	for (let i = 0; i < value.length; i++) {
		if (typeof value[i] !== 'string') return false;
	}
	return true;
};

/**
 * turns a JWK object or its JSON text into a private JWK record, or throws an `InvalidKeyError`
 * that says what was wrong. messages never quote the input: it holds the private key.
 */
export const parsePrivateJwk = (input: unknown): Record<string, unknown> => {
	let jwk: unknown = input;

	if (typeof input === 'string') {
		const text = input.trim();
		if (text === '') {
			throw new InvalidKeyError(
				'malformed_json',
				'the private JWK is an empty string (is the environment variable set?)',
			);
		}
		if (text[0] === "'") {
			throw new InvalidKeyError(
				'malformed_json',
				'the private JWK is wrapped in single quotes; pass the JSON object itself',
			);
		}
		try {
			jwk = JSON.parse(text);
		} catch {
			// the SyntaxError's message quotes the input, so it is not passed on
			throw new InvalidKeyError(
				'malformed_json',
				text.startsWith('-----BEGIN ')
					? 'the private JWK is not valid JSON: it looks like a PEM; import a PEM with importPkcs8Key'
					: 'the private JWK is not valid JSON',
			);
		}
		if (typeof jwk === 'string') {
			throw new InvalidKeyError(
				'malformed_json',
				'the private JWK is JSON-encoded twice (the JSON text holds a string, not an object)',
			);
		}
	}

	if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
		throw new InvalidKeyError(
			'not_an_object',
			`expected a private JWK (an object or its JSON string), got ${describe(jwk)}`,
		);
	}

	const record = jwk as Record<string, unknown>;
	const mistake = notAJwk(record);
	if (mistake !== undefined) {
		throw new InvalidKeyError('not_an_object', `expected a private JWK, got ${mistake}`);
	}
	if (record.kty !== 'EC' && record.kty !== 'RSA') {
		throw new InvalidKeyError(
			'unsupported_key_type',
			`unsupported JWK "kty" ${shownMember(record.kty ?? null)}; expected "EC" or "RSA"`,
		);
	}
	// a "d" of another type is a broken private key, not a public one: saying "no d" would send
	// the reader looking for a field that is there
	if (record.d !== undefined && typeof record.d !== 'string') {
		throw new InvalidKeyError(
			'invalid_key',
			`the JWK's "d" must be a base64url string, got ${describe(record.d)}`,
		);
	}
	if (record.d === undefined || record.d === '') {
		throw new InvalidKeyError(
			'public_key',
			'the JWK is a public key (it has no "d"); a private key is required here',
		);
	}
	if (record.use !== undefined && record.use !== 'sig') {
		throw new InvalidKeyError('invalid_key', `the JWK has "use": ${shownMember(record.use)}; expected "sig"`);
	}
	// RFC 7517 §4.3: when present, key_ops says what the key is for; it must allow signing
	const ops = record.key_ops;
	if (ops !== undefined && !isStringArray(ops)) {
		throw new InvalidKeyError(
			'invalid_key',
			`the JWK's "key_ops" must be an array of strings, got ${Array.isArray(ops) ? 'an array holding other values' : describe(ops)}`,
		);
	}
	if (ops !== undefined && !ops.includes('sign')) {
		throw new InvalidKeyError(
			'invalid_key',
			`the JWK has "key_ops": ${shownMember(ops)}; expected a list that includes "sign"`,
		);
	}
	return record;
};
