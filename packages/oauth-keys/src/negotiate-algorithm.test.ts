import { describe, expect, it } from 'vitest';

import { NoCompatibleKeyError } from './errors.ts';
import { negotiateAlgorithm } from './negotiate-algorithm.ts';
import type { SigningAlgorithm } from './signing-algorithm.ts';

/** runs `fn` and returns what it threw. */
const thrown = (fn: () => unknown): unknown => {
	try {
		fn();
	} catch (error) {
		return error;
	}
	throw new Error('expected a throw');
};

describe('negotiateAlgorithm', () => {
	it('assumes the server accepts ES256 when it lists nothing', () => {
		expect(negotiateAlgorithm(['RS256', 'ES256'], undefined, 'DPoP proofs')).toBe('ES256');
	});

	it('picks our most preferred algorithm the server accepts, whatever the server order', () => {
		expect(negotiateAlgorithm(['RS256', 'ES256'], ['RS256', 'ES256'], 'x')).toBe('ES256');
		expect(negotiateAlgorithm(['RS256', 'PS256', 'ES384'], ['RS256', 'PS256', 'ES384'], 'x')).toBe('ES384');
		expect(negotiateAlgorithm(['RS256', 'PS256'], ['RS256', 'PS256'], 'x')).toBe('PS256');
	});

	it('picks an algorithm only the server accepts among ours', () => {
		expect(negotiateAlgorithm(['ES256', 'RS256'], ['HS256', 'RS256'], 'x')).toBe('RS256');
	});

	it('does not reorder the list it was given', () => {
		const available: SigningAlgorithm[] = ['RS256', 'ES256'];
		negotiateAlgorithm(available, ['ES256'], 'x');
		expect(available).toEqual(['RS256', 'ES256']);
	});

	it('throws NoCompatibleKeyError with both lists and the purpose when nothing fits', () => {
		const error = thrown(() => negotiateAlgorithm(['RS256', 'ES256'], ['PS256', 'EdDSA'], 'DPoP proofs'));
		expect(error).toBeInstanceOf(NoCompatibleKeyError);
		expect(error).toBeInstanceOf(Error);
		const noKey = error as NoCompatibleKeyError;
		expect(noKey.name).toBe('NoCompatibleKeyError');
		// ours in preference order, theirs as given
		expect(noKey.available).toEqual(['ES256', 'RS256']);
		expect(noKey.supported).toEqual(['PS256', 'EdDSA']);
		expect(noKey.message).toContain('DPoP proofs');
		expect(noKey.message).toContain('we have ["ES256","RS256"]');
		expect(noKey.message).toContain('it accepts ["PS256","EdDSA"]');
	});

	it('treats null like an absent list', () => {
		expect(negotiateAlgorithm(['RS256', 'ES256'], null as unknown as undefined, 'x')).toBe('ES256');
	});

	for (const [label, list] of [
		['a string', 'xES256x'],
		['the string ES256', 'ES256'],
		['an object', { 0: 'ES256', length: 1 }],
		['a number', 256],
	] as const) {
		it(`throws a TypeError for ${label} instead of a list, never matching by substring`, () => {
			const error = thrown(() => negotiateAlgorithm(['ES256'], list as unknown as string[], 'DPoP proofs'));
			expect(error).toBeInstanceOf(TypeError);
			expect((error as Error).message).toBe(
				`the server's signing algorithm list for DPoP proofs must be an array, got ${typeof list}`,
			);
		});
	}

	it('ignores entries that are not strings, and says how many', () => {
		const odd = [null, 256, { toString: () => 'ES256' }, ['ES256']] as unknown as string[];
		expect(negotiateAlgorithm(['ES256'], [...odd, 'ES256'], 'x')).toBe('ES256');

		const error = thrown(() => negotiateAlgorithm(['ES256'], [...odd, 'PS256'], 'x')) as NoCompatibleKeyError;
		expect(error).toBeInstanceOf(NoCompatibleKeyError);
		expect(error.supported).toEqual(['PS256']);
		expect(error.message).toContain('it accepts ["PS256"] (4 entries that are not strings ignored)');

		const none = thrown(() =>
			negotiateAlgorithm(['ES256'], [{}] as unknown as string[], 'x'),
		) as NoCompatibleKeyError;
		expect(none.supported).toEqual([]);
		expect(none.message).toContain('it accepts none (1 entry that is not a string ignored)');
	});

	it('quotes odd algorithm names unambiguously', () => {
		const error = thrown(() =>
			negotiateAlgorithm(['ES256'], ['ES256 ', 'a, b'], 'x'),
		) as NoCompatibleKeyError;
		expect(error.message).toContain('it accepts ["ES256 ","a, b"]');
	});

	it('throws when we have no algorithm, saying none', () => {
		const error = thrown(() => negotiateAlgorithm([], undefined, 'x')) as NoCompatibleKeyError;
		expect(error).toBeInstanceOf(NoCompatibleKeyError);
		expect(error.available).toEqual([]);
		expect(error.supported).toEqual(['ES256']);
		expect(error.message).toMatch(/we have none/);
	});

	it('throws when the server lists no algorithm, saying none', () => {
		const error = thrown(() => negotiateAlgorithm(['ES256'], [], 'x')) as NoCompatibleKeyError;
		expect(error).toBeInstanceOf(NoCompatibleKeyError);
		expect(error.supported).toEqual([]);
		expect(error.message).toMatch(/accepts none/);
	});

	it('matches algorithm names exactly', () => {
		expect(() => negotiateAlgorithm(['ES256'], ['es256'], 'x')).toThrow(NoCompatibleKeyError);
	});
});
