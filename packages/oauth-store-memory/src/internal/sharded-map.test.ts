import { describe, expect, it } from 'vitest';

import { ShardedMap } from './sharded-map.ts';

describe('ShardedMap', () => {
	it('gets, replaces and deletes like a Map, and keeps its size', () => {
		const map = new ShardedMap<string, number>();
		const reference = new Map<string, number>();
		// keys that share a prefix, and ones that differ only in their first character
		const keys = [
			...Array.from({ length: 500 }, (_, i) => `did:plc:${i}`),
			...Array.from({ length: 26 }, (_, i) => `${String.fromCharCode(97 + i)}-same-tail`),
			'',
			'é🙂',
		];
		for (const [i, key] of keys.entries()) {
			map.set(key, i);
			reference.set(key, i);
		}
		// a second set replaces, it does not add
		map.set('did:plc:1', -1);
		reference.set('did:plc:1', -1);
		for (const key of keys.filter((_, i) => i % 3 === 0)) {
			expect(map.delete(key)).toBe(true);
			reference.delete(key);
		}
		expect(map.delete('missing')).toBe(false);
		expect(map.size).toBe(reference.size);
		for (const key of keys) expect(map.get(key)).toBe(reference.get(key));
		map.clear();
		expect(map.size).toBe(0);
		expect(map.get('did:plc:2')).toBeUndefined();
	});
});
