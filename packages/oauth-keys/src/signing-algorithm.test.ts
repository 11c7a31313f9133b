import { describe, expect, it } from 'vitest';

import { isSigningAlgorithm, SIGNING_ALGORITHMS } from './signing-algorithm.ts';

describe('SIGNING_ALGORITHMS', () => {
	it('lists the supported algorithms, ES256 first', () => {
		expect(SIGNING_ALGORITHMS).toEqual([
			'ES256',
			'ES384',
			'ES512',
			'PS256',
			'PS384',
			'PS512',
			'RS256',
			'RS384',
			'RS512',
		]);
	});

	it('cannot be changed', () => {
		expect(Object.isFrozen(SIGNING_ALGORITHMS)).toBe(true);
	});
});

describe('isSigningAlgorithm', () => {
	it('accepts every supported algorithm', () => {
		for (const alg of SIGNING_ALGORITHMS) {
			expect(isSigningAlgorithm(alg)).toBe(true);
		}
	});

	it('rejects other algorithms and non-strings', () => {
		for (const value of ['HS256', 'none', 'EdDSA', 'es256', 'ES256 ', '', undefined, null, 256, ['ES256']]) {
			expect(isSigningAlgorithm(value)).toBe(false);
		}
	});
});
