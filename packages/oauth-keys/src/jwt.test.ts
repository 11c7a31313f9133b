import { base64url, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';

import { generatePrivateKey } from './generate-private-key.ts';
import { encodeJwtSegment, signJwt } from './jwt.ts';

const decoder = new TextDecoder();

describe('encodeJwtSegment', () => {
	it('encodes the JSON of a value as unpadded base64url', () => {
		const value = { alg: 'ES256', kid: 'k?>~', typ: 'JWT' };
		const segment = encodeJwtSegment(value);
		expect(segment).toMatch(/^[A-Za-z0-9_-]+$/);
		expect(decoder.decode(base64url.decode(segment))).toBe(JSON.stringify(value));
	});
});

describe('signJwt', () => {
	it('builds a compact JWS that jose verifies', async () => {
		const key = await generatePrivateKey('jwt', 'ES256');
		const header = encodeJwtSegment({ alg: 'ES256', kid: 'jwt', typ: 'dpop+jwt' });
		const claims = { iat: 1_700_000_000, htm: 'POST', htu: 'https://as.example/token' };
		const jwt = await signJwt(header, claims, key.sign);

		expect(jwt.split('.')).toHaveLength(3);
		expect(jwt.startsWith(`${header}.`)).toBe(true);
		expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'ES256', kid: 'jwt', typ: 'dpop+jwt' });

		const { payload } = await jwtVerify(jwt, await importJWK({ ...key.publicJwk }, 'ES256'), {
			algorithms: ['ES256'],
			typ: 'dpop+jwt',
		});
		expect(payload).toEqual(claims);
	});

	it('signs exactly the header and claims segments', async () => {
		const seen: string[] = [];
		const jwt = await signJwt('aGVhZGVy', { a: 1 }, (data) => {
			seen.push(decoder.decode(data));
			return new Uint8Array([0xfb, 0xff]);
		});
		expect(seen).toEqual([`aGVhZGVy.${encodeJwtSegment({ a: 1 })}`]);
		// the signature is base64url, not base64
		expect(jwt).toBe(`aGVhZGVy.${encodeJwtSegment({ a: 1 })}.-_8`);
	});
});
