import { InvalidKeyError } from '../errors.ts';
import { base64urlDecode } from './base64url.ts';

/**
 * the bytes of the unsigned integer in an RSA JWK's `field`, which must be base64url in its
 * shortest form. messages name the field, never its value.
 */
const readUInt = (jwk: Record<string, unknown>, field: 'n' | 'e'): Uint8Array => {
	const text = jwk[field];
	const bytes = typeof text === 'string' ? base64urlDecode(text) : undefined;
	if (bytes === undefined || bytes.length === 0) {
		throw new InvalidKeyError('invalid_key', `the RSA JWK's "${field}" is not a base64url integer`);
	}
	// RFC 7518 §6.3.1: the shortest encoding. a zero byte in front would inflate any size estimate
	// from the text, and the field is published as given in the JWKS
	if (bytes[0] === 0) {
		throw new InvalidKeyError(
			'invalid_key',
			`the RSA JWK's "${field}" starts with a zero byte; RFC 7518 requires the shortest encoding (drop the leading zero bytes)`,
		);
	}
	return bytes;
};

/**
 * the size in bits of an RSA JWK's modulus, counted from its decoded value, after checking that
 * `n` and `e` are base64url integers in their shortest form.
 */
export const rsaModulusBits = (jwk: Record<string, unknown>): number => {
	const n = readUInt(jwk, 'n');
	readUInt(jwk, 'e');
	// whole bytes after the first, plus the significant bits of the first (never zero here)
	return (n.length - 1) * 8 + (32 - Math.clz32(n[0]!));
};

/**
 * whether an RSA JWK's public exponent `e` is one RSA allows (RFC 8017 §3.1: odd and at least 3),
 * after checking that it is a base64url integer in its shortest form.
 */
export const rsaExponentIsValid = (jwk: Record<string, unknown>): boolean => {
	const e = readUInt(jwk, 'e');
	// odd (the low bit of the last byte), and not 1: in the shortest form that is the single byte 1
	return e[e.length - 1]! % 2 === 1 && !(e.length === 1 && e[0] === 1);
};
