import { describe, expect, it } from 'vitest';

import { randomId } from './random-id.ts';

describe('randomId', () => {
	it('encodes 16 random bytes as 22 base64url characters by default', () => {
		expect(randomId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
	});

	it('encodes the given number of bytes', () => {
		expect(randomId(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
		expect(randomId(3)).toHaveLength(4);
	});

	it('returns a different value every time', () => {
		const ids = new Set(Array.from({ length: 100 }, () => randomId()));
		expect(ids.size).toBe(100);
		const long = new Set(Array.from({ length: 100 }, () => randomId(32)));
		expect(long.size).toBe(100);
	});
});
