import { describe, expect, it } from 'vitest';

import { MemoryDpopNonceCache } from './dpop-nonce-cache.ts';

describe('MemoryDpopNonceCache', () => {
	it('returns undefined for an origin it has not seen', () => {
		const cache = new MemoryDpopNonceCache();
		expect(cache.get('https://pds.example')).toBeUndefined();
	});

	it('returns the nonce last set for an origin', () => {
		const cache = new MemoryDpopNonceCache();
		cache.set('https://pds.example', 'n1');
		expect(cache.get('https://pds.example')).toBe('n1');
		cache.set('https://pds.example', 'n2');
		expect(cache.get('https://pds.example')).toBe('n2');
	});

	it('keeps the nonces of different origins apart', () => {
		const cache = new MemoryDpopNonceCache();
		cache.set('https://a.example', 'na');
		cache.set('https://b.example', 'nb');
		expect(cache.get('https://a.example')).toBe('na');
		expect(cache.get('https://b.example')).toBe('nb');
	});

	it('drops the least recently set origin when it grows past maxSize', () => {
		const cache = new MemoryDpopNonceCache({ maxSize: 2 });
		cache.set('https://a.example', 'na');
		cache.set('https://b.example', 'nb');
		cache.set('https://c.example', 'nc');
		expect(cache.get('https://a.example')).toBeUndefined();
		expect(cache.get('https://b.example')).toBe('nb');
		expect(cache.get('https://c.example')).toBe('nc');
	});

	it('counts re-setting an origin as recent', () => {
		const cache = new MemoryDpopNonceCache({ maxSize: 2 });
		cache.set('https://a.example', 'na');
		cache.set('https://b.example', 'nb');
		cache.set('https://a.example', 'na2');
		cache.set('https://c.example', 'nc');
		expect(cache.get('https://a.example')).toBe('na2');
		expect(cache.get('https://b.example')).toBeUndefined();
		expect(cache.get('https://c.example')).toBe('nc');
	});

	it('does not drop anything when an existing origin is re-set at the bound', () => {
		const cache = new MemoryDpopNonceCache({ maxSize: 2 });
		cache.set('https://a.example', 'na');
		cache.set('https://b.example', 'nb');
		cache.set('https://b.example', 'nb2');
		expect(cache.get('https://a.example')).toBe('na');
		expect(cache.get('https://b.example')).toBe('nb2');
	});

	it('keeps a single origin with maxSize 1', () => {
		const cache = new MemoryDpopNonceCache({ maxSize: 1 });
		cache.set('https://a.example', 'na');
		cache.set('https://b.example', 'nb');
		expect(cache.get('https://a.example')).toBeUndefined();
		expect(cache.get('https://b.example')).toBe('nb');
	});

	it('remembers 1000 origins by default', () => {
		const cache = new MemoryDpopNonceCache();
		for (let i = 0; i < 1000; i++) {
			cache.set(`https://${i}.example`, `n${i}`);
		}
		expect(cache.get('https://0.example')).toBe('n0');
		cache.set('https://1000.example', 'n1000');
		expect(cache.get('https://0.example')).toBeUndefined();
		expect(cache.get('https://1.example')).toBe('n1');
		expect(cache.get('https://1000.example')).toBe('n1000');
	});

	it('uses the default bound when maxSize is undefined', () => {
		const cache = new MemoryDpopNonceCache({ maxSize: undefined });
		for (let i = 0; i < 1000; i++) {
			cache.set(`https://${i}.example`, `n${i}`);
		}
		expect(cache.get('https://0.example')).toBe('n0');
		cache.set('https://1000.example', 'n1000');
		expect(cache.get('https://0.example')).toBeUndefined();
	});

	it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
		'refuses maxSize %s with a TypeError',
		(maxSize) => {
			expect(() => new MemoryDpopNonceCache({ maxSize })).toThrow(TypeError);
		},
	);

	it('refuses options that are not an object with a TypeError saying so', () => {
		expect(() => new MemoryDpopNonceCache(null as never)).toThrow(
			new TypeError('MemoryDpopNonceCache options must be an object ({ maxSize? }), got null'),
		);
		expect(() => new MemoryDpopNonceCache(100 as never)).toThrow(
			new TypeError('MemoryDpopNonceCache options must be an object ({ maxSize? }), got number'),
		);
		expect(new MemoryDpopNonceCache(undefined).get('https://pds.example')).toBeUndefined();
	});
});
