import { describe, expect, it } from 'vitest';

import { checkExpiresAt, MAX_EXPIRES_AT } from './expires-at.ts';

describe('checkExpiresAt', () => {
	it('passes undefined and every number a Date can hold, unchanged', () => {
		for (const value of [undefined, 0, 1.5, -1, Date.now(), MAX_EXPIRES_AT, -MAX_EXPIRES_AT]) {
			expect(checkExpiresAt(value)).toBe(value);
		}
		expect(new Date(MAX_EXPIRES_AT).getTime()).toBe(MAX_EXPIRES_AT);
	});

	it.each([
		[Number.NaN, 'NaN'],
		[Number.POSITIVE_INFINITY, 'Infinity'],
		[MAX_EXPIRES_AT + 1, '8640000000000001'],
		[-MAX_EXPIRES_AT - 1, '-8640000000000001'],
		[2 ** 63, '9223372036854776000'],
		[1e300, '1e+300'],
		['1' as unknown as number, '1'],
	])('refuses %s with a TypeError naming it', (value, shown) => {
		expect(() => checkExpiresAt(value)).toThrow(
			expect.objectContaining({ name: 'TypeError', message: expect.stringContaining(`got ${shown}`) }),
		);
	});
});
