import { describe, expect, it } from 'vitest';

import { decodeBase64url, encodeBase64url } from './base64url.ts';

describe('base64url', () => {
	it('agrees with Node for every length from 0 to 70 bytes', () => {
		for (let length = 0; length <= 70; length++) {
			const bytes = crypto.getRandomValues(new Uint8Array(length));
			const text = encodeBase64url(bytes);
			expect(text).toBe(Buffer.from(bytes).toString('base64url'));
			expect(decodeBase64url(text)).toEqual(bytes);
		}
	});

	it.each([
		['a length that encodes no whole byte', 'A'],
		['a character outside the alphabet', 'AB+D'],
		['padding', 'AA=='],
		['a non-ASCII character', 'AAé'],
		['unused low bits set (two characters)', 'AB'],
		['unused low bits set (three characters)', 'AAB'],
	])('refuses %s', (_label, text) => {
		expect(decodeBase64url(text)).toBeUndefined();
	});
});
