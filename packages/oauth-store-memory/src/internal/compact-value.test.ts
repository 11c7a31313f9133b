import { randomBytes } from 'node:crypto';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { decodeValue, encodeValue } from './compact-value.ts';

const token = () => randomBytes(675).toString('base64url');
const session = () => ({
	dpopKey: {
		kty: 'EC',
		crv: 'P-256',
		x: randomBytes(32).toString('base64url'),
		y: randomBytes(32).toString('base64url'),
		d: randomBytes(32).toString('base64url'),
		alg: 'ES256',
	},
	authMethod: { method: 'private_key_jwt', kid: 'main' },
	tokenSet: {
		iss: 'https://bsky.social',
		sub: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
		aud: 'https://morel.us-east.host.bsky.network',
		scope: 'atproto transition:generic',
		access_token: token(),
		refresh_token: token(),
		token_type: 'DPoP',
		expires_at: 1_790_000_000_000,
	},
});

describe('encodeValue / decodeValue', () => {
	it('refuses a value nested too deep with a TypeError, as one with no JSON form', () => {
		let deep: unknown = 'leaf';
		for (let i = 0; i < 10_000; i++) deep = [deep];
		expect(() => encodeValue(deep)).toThrow(TypeError);
		// what JSON.stringify holds at a reasonable depth still round-trips
		let shallow: unknown = 'leaf';
		for (let i = 0; i < 500; i++) shallow = [shallow];
		expect(decodeValue(encodeValue(shallow))).toEqual(shallow);
	});

	it('round-trips a session and keeps its base64url strings as bytes', () => {
		const value = session();
		const text = encodeValue(value);
		expect(decodeValue(text)).toEqual(value);
		// the two tokens went in as 675 bytes each, not 900 characters (less the placeholders)
		expect(text.length).toBeLessThan(JSON.stringify(value).length - 400);
		expect(text).not.toContain(value.tokenSet.access_token);
	});

	it('round-trips JWT-shaped, padded, short and non-canonical strings exactly', () => {
		const value = {
			jwt: `${token()}.${token()}.${token()}`,
			padded: `${randomBytes(40).toString('base64')}`,
			short: 'abc',
			// 33 characters: no byte string encodes to a length of 1 mod 4
			oddLength: 'A'.repeat(33),
			// the last character carries bits past the last byte: not what an encoder writes
			trailingBits: `${'A'.repeat(42)}B`,
			nested: [{ deep: [token(), 1, null, true] }],
		};
		expect(decodeValue(encodeValue(value))).toEqual(value);
	});

	it('round-trips strings holding the separators, control characters and non-Latin text', () => {
		const value = {
			a: '12|{"x":1}3,abc',
			b: '\u0001',
			c: '\u00010',

			d: 'ünïcødé 🦋',
			e: token(),
		};
		expect(decodeValue(encodeValue(value))).toEqual(value);
	});

	it('leaves strings that start like a placeholder but are not one as they are', () => {
		const value = { f: '\u0001abc', g: '\u00015x', tokens: [token(), token()] };
		const text = encodeValue(value);
		// the tokens still went in as bytes
		expect(text).not.toContain(value.tokens[0]);
		expect(decodeValue(text)).toEqual(value);
	});

	it('keeps a value whose own text looks like a placeholder as plain JSON, and exactly', () => {
		// the second one's placeholder-like text follows an escaped quote: caught all the same
		for (const value of [
			{ mine: '\u00010', tokens: [token(), token()] },
			{ mine: `x"\u00013`, tokens: [token(), token()] },
		]) {
			const text = encodeValue(value);
			expect(text).toBe(`${JSON.stringify(value).length}|${JSON.stringify(value)}`);
			expect(decodeValue(text)).toEqual(value);
		}
	});

	it('round-trips values with no long string, and plain JSON values', () => {
		for (const value of [{ n: 1 }, 'text', 42, null, true, [], [token()]]) {
			expect(decodeValue(encodeValue(value))).toEqual(value);
		}
	});

	it('refuses a value with no JSON form', () => {
		expect(() => encodeValue(undefined)).toThrow(TypeError);
		expect(() => encodeValue(() => 1)).toThrow(TypeError);
	});
});

describe('encodeValue / decodeValue without node:buffer (atob and btoa)', () => {
	afterEach(() => {
		vi.unstubAllGlobals();
		vi.resetModules();
	});

	it('writes the same string as with node:buffer and reads it back', async () => {
		const value = { ...session(), odd: 'A'.repeat(33), padded: randomBytes(40).toString('base64') };
		const withBuffer = encodeValue(value);
		vi.stubGlobal('Buffer', undefined);
		vi.resetModules();
		const web = await import('./compact-value.ts');
		expect(web.encodeValue(value)).toBe(withBuffer);
		expect(web.decodeValue(withBuffer)).toEqual(value);
	});
});
