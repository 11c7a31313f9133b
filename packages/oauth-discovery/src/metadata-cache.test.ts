import { describe, expect, it } from 'vitest';

import { MemoryMetadataCache } from './metadata-cache.ts';

describe('MemoryMetadataCache', () => {
	it('returns what was set, and undefined for unknown keys', () => {
		const cache = new MemoryMetadataCache();
		cache.set('a', { value: 1, expiresAt: 2 });
		expect(cache.get('a')).toEqual({ value: 1, expiresAt: 2 });
		expect(cache.get('b')).toBeUndefined();
	});

	it('drops the least recently set entry past maxSize', () => {
		const cache = new MemoryMetadataCache({ maxSize: 2 });
		cache.set('a', 1);
		cache.set('b', 2);
		cache.set('a', 3);
		cache.set('c', 4);
		expect(cache.get('a')).toBe(3);
		expect(cache.get('b')).toBeUndefined();
		expect(cache.get('c')).toBe(4);
	});

	it('keeps 100 entries by default', () => {
		const cache = new MemoryMetadataCache();
		for (let i = 0; i <= 100; i++) cache.set(String(i), i);
		expect(cache.get('0')).toBeUndefined();
		expect(cache.get('1')).toBe(1);
		expect(cache.get('100')).toBe(100);
	});

	it.each([0, -1, 1.5, Number.NaN])('refuses maxSize %s with a TypeError', (maxSize) => {
		expect(() => new MemoryMetadataCache({ maxSize })).toThrow(TypeError);
	});
});
