import { describe, expect, it } from 'vitest';

import { publicJwkOf } from './index.ts';

const loose = <T>(value: unknown): T => value as T;

describe('publicJwkOf given a JWK that is neither EC nor RSA', () => {
	it('refuses an OKP or oct JWK rather than answer an RSA key without parameters', () => {
		// was: { kty: 'RSA', n: undefined, e: undefined } for each
		expect(() => publicJwkOf({ kty: 'OKP', crv: 'Ed25519', x: 'abc' })).toThrow(
			/publicJwkOf expects an EC or RSA JWK, got kty "OKP"/,
		);
		expect(() => publicJwkOf({ kty: 'oct', k: 'c2VjcmV0' })).toThrow(/got kty "oct"/);
		expect(() => publicJwkOf({ n: 'abc', e: 'AQAB' })).toThrow(/got kty undefined/);
	});

	it('refuses what is not an object with a TypeError naming it', () => {
		expect(() => publicJwkOf(loose(undefined))).toThrow(
			/publicJwkOf expects an EC or RSA JWK, got undefined/,
		);
	});
});
