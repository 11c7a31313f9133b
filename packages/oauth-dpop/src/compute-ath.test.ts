import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { computeAth } from './compute-ath.ts';

const sha256Base64url = (text: string): string => createHash('sha256').update(text).digest('base64url');

describe('computeAth', () => {
	it('is the base64url SHA-256 of the access token', async () => {
		expect(await computeAth('token')).toBe(sha256Base64url('token'));
	});

	it('matches the example of RFC 9449 section 7.1', async () => {
		expect(await computeAth('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe(
			'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo',
		);
	});

	it('hashes the UTF-8 bytes of non-ASCII tokens', async () => {
		expect(await computeAth('tøkën✓')).toBe(sha256Base64url('tøkën✓'));
	});

	it('gives unpadded base64url of 43 characters', async () => {
		const ath = await computeAth('another token');
		expect(ath).toMatch(/^[A-Za-z0-9_-]{43}$/);
	});

	it('gives different values for different tokens', async () => {
		expect(await computeAth('a')).not.toBe(await computeAth('b'));
	});
});

describe('computeAth: an access token that is not a string', () => {
	it.each([
		['undefined', undefined, 'undefined'],
		['null', null, 'null'],
		['a number', 42, 'number'],
		['a token set', { access_token: 'secret-token' }, 'object'],
	])(
		'rejects %s with a TypeError naming accessToken, rather than hash something else',
		async (_label, value, got) => {
			const error = await computeAth(value as unknown as string).catch((err) => err);
			expect(error).toBeInstanceOf(TypeError);
			expect(error.message).toBe(`computeAth(accessToken) expects the access token as a string, got ${got}`);
			expect(error.message).not.toMatch(/secret-token/);
		},
	);
});
