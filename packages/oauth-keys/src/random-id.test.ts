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

	it('stays unique across pool refills, and serves requests larger than the pool', () => {
		// 16-byte ids: 1000 of them span several 4 KiB pools
		const ids = new Set(Array.from({ length: 1000 }, () => randomId()));
		expect(ids.size).toBe(1000);
		// odd sizes leave a remainder at the end of a pool, which must not be handed out twice
		const odd = new Set(Array.from({ length: 500 }, () => randomId(33)));
		expect(odd.size).toBe(500);
		expect(randomId(5000)).toHaveLength(Math.ceil((5000 * 4) / 3));
	});

	it('rejects a byte length that is not a positive integer', () => {
		expect(() => randomId(0)).toThrow(TypeError);
		expect(() => randomId(1.5)).toThrow(TypeError);
	});
});
