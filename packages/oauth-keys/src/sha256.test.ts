import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { sha256Base64url } from './sha256.ts';

describe('sha256Base64url', () => {
	it("hashes 'abc' to the FIPS 180-2 test vector, base64url-encoded without padding", async () => {
		expect(await sha256Base64url('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
	});

	it('computes the S256 code challenge of RFC 7636 Appendix B', async () => {
		expect(await sha256Base64url('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
			'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
		);
	});

	it('hashes the empty string', async () => {
		expect(await sha256Base64url('')).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
	});

	it('hashes text as UTF-8', async () => {
		for (const text of ['\u00e9', 'k\u00f6ln \u{1f511}', 'a'.repeat(1000)]) {
			const expected = createHash('sha256').update(text, 'utf8').digest('base64url');
			expect(await sha256Base64url(text)).toBe(expected);
		}
	});
});
