import { InvalidKeyError } from '../errors.ts';
import { base64urlDecode } from './base64url.ts';

/**
 * the length in bytes of a coordinate (and of `d`) on each curve: RFC 7518 §6.2.1.2-3 and
 * §6.2.2.1 require the full length, leading zero bytes included. a Map, as for `ALG_BY_EC_CURVE`.
 */
const EC_FIELD_BYTES: ReadonlyMap<unknown, number> = new Map([
	['P-256', 32],
	['P-384', 48],
	['P-521', 66],
]);

/** what is wrong with `text` as base64url without padding (RFC 7515 §2), for a message. */
const base64urlDefect = (text: string): string => {
	if (text.includes('=')) return 'has "=" padding; base64url in a JWK has none (RFC 7515 §2)';
	if (/[+/]/.test(text)) return 'uses the base64 alphabet ("+", "/"), not base64url ("-", "_")';
	if (!/^[A-Za-z0-9_-]*$/.test(text)) return 'holds characters that are not base64url';
	if (text.length % 4 === 1) return 'is not base64url (its length is impossible)';
	return 'has stray bits set in its last character (not the canonical base64url of its bytes)';
};

/**
 * checks that an EC JWK's `x`, `y` and `d` are canonical base64url of exactly the curve's length.
 * WebCrypto accepts other encodings, and `x` and `y` are published as given in the JWKS.
 * messages name the member and the defect, never its value.
 */
export const checkEcJwkEncoding = (jwk: Record<string, unknown>): void => {
	const size = EC_FIELD_BYTES.get(jwk.crv);
	// the curve was checked against the algorithm before this runs
	if (size === undefined) return;
	for (const field of ['x', 'y', 'd'] as const) {
		const text = jwk[field];
		if (typeof text !== 'string') {
			throw new InvalidKeyError(
				'invalid_key',
				`the EC JWK's "${field}" is ${text === undefined ? 'missing' : `not a string (${text === null ? 'null' : typeof text})`}`,
			);
		}
		const bytes = base64urlDecode(text);
		if (bytes === undefined) {
			throw new InvalidKeyError('invalid_key', `the EC JWK's "${field}" ${base64urlDefect(text)}`);
		}
		if (bytes.length !== size) {
			const padded = bytes.length > size && bytes[0] === 0;
			const hint = padded
				? ': drop the extra leading zero bytes'
				: bytes.length < size
					? ': keep the leading zero bytes'
					: '';
			throw new InvalidKeyError(
				'invalid_key',
				`the EC JWK's "${field}" is ${bytes.length} bytes${padded ? ', starting with a zero byte' : ''}; ` +
					`${jwk.crv} needs exactly ${size} (RFC 7518 §6.2${hint})`,
			);
		}
	}
};
