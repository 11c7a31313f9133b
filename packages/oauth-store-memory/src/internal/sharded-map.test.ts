import { describe, expect, it } from 'vitest';

import { SHARDS, ShardedMap, shardOf } from './sharded-map.ts';

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
			map.delete(key);
			reference.delete(key);
		}
		// deleting a missing key changes nothing
		map.delete('missing');
		expect(map.size).toBe(reference.size);
		for (const key of keys) expect(map.get(key)).toBe(reference.get(key));
		map.clear();
		expect(map.size).toBe(0);
		expect(map.get('did:plc:2')).toBeUndefined();
	});

	it('behaves as a Map through random sets, deletes and clears, with any shard count', () => {
		// a fixed seed (a linear congruential sequence), so a failure repeats
		let seed = 12_345;
		const random = (n: number) => {
			seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
			return seed % n;
		};
		for (const shards of [1, 4, SHARDS]) {
			const map = new ShardedMap<string, number>(shards);
			const reference = new Map<string, number>();
			for (let round = 0; round < 20_000; round++) {
				const key = `did:plc:${random(3000)}`;
				const op = random(10);
				if (op < 6) {
					map.set(key, round);
					reference.set(key, round);
				} else if (op < 9) {
					map.delete(key);
					reference.delete(key);
					expect(map.size).toBe(reference.size);
				} else {
					expect(map.get(key)).toBe(reference.get(key));
					expect(map.has(key)).toBe(reference.has(key));
				}
				if (round === 10_000) {
					map.clear();
					reference.clear();
					// a cleared map makes its shards again
					expect(map.get(key)).toBeUndefined();
				}
			}
			expect(map.size).toBe(reference.size);
			for (let i = 0; i < 3000; i++) expect(map.get(`did:plc:${i}`)).toBe(reference.get(`did:plc:${i}`));
		}
	});

	it('tells a key kept with the value undefined from a missing one', () => {
		const map = new ShardedMap<string, undefined>();
		map.set('a', undefined);
		expect(map.has('a')).toBe(true);
		expect(map.has('b')).toBe(false);
		expect(map.size).toBe(1);
		map.delete('a');
		expect(map.has('a')).toBe(false);
		expect(map.size).toBe(0);
	});

	it('with one shard, gives the oldest key still in it first', () => {
		const map = new ShardedMap<string, number>(1);
		expect(map.first()).toBeUndefined();
		for (const key of ['c', 'a', 'b']) map.set(key, 0);
		expect(map.first()).toBe('c');
		// setting again keeps the place; deleting and setting moves to the back
		map.set('c', 1);
		expect(map.first()).toBe('c');
		map.delete('c');
		map.set('c', 2);
		expect(map.first()).toBe('a');
		map.delete('a');
		map.delete('b');
		expect(map.first()).toBe('c');
	});

	it('spreads DIDs, random-looking and sequential, evenly over the shards', () => {
		const dids = [
			...Array.from({ length: 50_000 }, (_, i) => `did:plc:${i.toString(36).padStart(24, '0')}`),
			...Array.from({ length: 50_000 }, (_, i) => `did:web:user${i}.example.com`),
		];
		for (const mask of [SHARDS - 1, 63]) {
			const counts = new Array<number>(mask + 1).fill(0);
			for (const did of dids) counts[shardOf(did, mask)]!++;
			const mean = dids.length / (mask + 1);
			// a fair hash keeps every shard within a few standard deviations (about √mean) of the mean
			expect(Math.min(...counts)).toBeGreaterThan(mean * 0.6);
			expect(Math.max(...counts)).toBeLessThan(mean * 1.4);
		}
	});
});
