import { describe, expect, it } from 'vitest';

import { InvalidKeyError, NoCompatibleKeyError } from './errors.ts';

describe('InvalidKeyError', () => {
	it('is a TypeError with a stable code, its reason and its message', () => {
		const error = new InvalidKeyError('public_key', 'the JWK is a public key');
		expect(error).toBeInstanceOf(TypeError);
		expect(error).toBeInstanceOf(Error);
		expect(error.name).toBe('InvalidKeyError');
		expect(error.code).toBe('ERR_INVALID_KEY');
		expect(error.reason).toBe('public_key');
		expect(error.message).toBe('the JWK is a public key');
		expect(String(error)).toBe('InvalidKeyError: the JWK is a public key');
	});
});

describe('NoCompatibleKeyError', () => {
	it('is an Error carrying both algorithm lists', () => {
		const error = new NoCompatibleKeyError('no match', ['ES256'], ['RS256']);
		expect(error).toBeInstanceOf(Error);
		expect(error).not.toBeInstanceOf(TypeError);
		expect(error.name).toBe('NoCompatibleKeyError');
		expect(error.message).toBe('no match');
		expect(error.available).toEqual(['ES256']);
		expect(error.supported).toEqual(['RS256']);
	});
});
