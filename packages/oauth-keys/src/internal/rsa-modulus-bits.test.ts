import { describe, expect, it } from 'vitest';

import { InvalidKeyError } from '../errors.ts';
import { rsaExponentIsValid, rsaModulusBits } from './rsa-modulus-bits.ts';

const b64u = (bytes: number[]): string => Buffer.from(bytes).toString('base64url');
const E = b64u([1, 0, 1]);

describe('rsaModulusBits', () => {
	it('counts the significant bits of the decoded modulus', () => {
		expect(rsaModulusBits({ n: b64u([0x80, ...new Array(255).fill(1)]), e: E })).toBe(2048);
		expect(rsaModulusBits({ n: b64u([0x7f, ...new Array(255).fill(1)]), e: E })).toBe(2047);
		expect(rsaModulusBits({ n: b64u([1]), e: E })).toBe(1);
	});

	it('refuses a leading zero byte in n or e, and a missing or malformed field', () => {
		const n = b64u([0x80, 1, 2]);
		for (const jwk of [
			{ n: b64u([0, 0x80, 1, 2]), e: E },
			{ n, e: b64u([0, 1, 0, 1]) },
			{ n: b64u([0]), e: E },
			{ e: E },
			{ n, e: 65537 },
			{ n: `${n}=`, e: E },
			{ n: ` ${n}`, e: E },
			// the last character carries bits past the end of the bytes
			{ n, e: 'AQB' },
		]) {
			expect(() => rsaModulusBits(jwk)).toThrow(InvalidKeyError);
		}
	});
});

describe('rsaExponentIsValid', () => {
	it('accepts an odd e of at least 3', () => {
		for (const e of [[3], [5], [1, 0, 1], [1, 0, 0, 0, 1]]) {
			expect(rsaExponentIsValid({ e: b64u(e) })).toBe(true);
		}
	});

	it('refuses e = 1 and an even e', () => {
		for (const e of [[1], [2], [4], [1, 0, 0], [1, 0, 2]]) {
			expect(rsaExponentIsValid({ e: b64u(e) })).toBe(false);
		}
	});

	it('refuses a leading zero byte or a malformed e', () => {
		for (const jwk of [{ e: b64u([0, 3]) }, {}, { e: 3 }]) {
			expect(() => rsaExponentIsValid(jwk)).toThrow(InvalidKeyError);
		}
	});
});
