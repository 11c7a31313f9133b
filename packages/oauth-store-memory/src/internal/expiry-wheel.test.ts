import { describe, expect, it } from 'vitest';

import { ExpiryWheel, SEGMENT_SIZE } from './expiry-wheel.ts';

describe('ExpiryWheel', () => {
	it('hands out each due key once, at most limit per call, and nothing before its second is over', () => {
		const wheel = new ExpiryWheel<string>();
		for (let i = 0; i < 250; i++) wheel.add(`a${i}`, 10_500);
		wheel.add('later', 20_500);
		expect(wheel.due(10_999, 100)).toEqual([]);
		const seen: string[] = [];
		for (let call = 0; call < 5; call++) {
			const keys = wheel.due(11_000, 100);
			expect(keys.length).toBeLessThanOrEqual(100);
			seen.push(...keys);
		}
		expect(seen.sort()).toEqual(Array.from({ length: 250 }, (_, i) => `a${i}`).sort());
		expect(wheel.due(20_999, 100)).toEqual([]);
		expect(wheel.due(21_000, 100)).toEqual(['later']);
	});

	it('skips a removed key, and hands out again a key added back into the bucket it is handing out', () => {
		const wheel = new ExpiryWheel<string>();
		for (let i = 0; i < 10; i++) wheel.add(`k${i}`, 5_000);
		wheel.remove('k9', 5_000);
		const first = wheel.due(5_000, 4);
		expect(first).toEqual(['k0', 'k1', 'k2', 'k3']);
		// k0 was handed out (and dropped by the store), then set again into the same second
		wheel.add('k0', 4_900);
		const rest = [...wheel.due(5_000, 100)];
		expect(rest).toEqual(['k4', 'k5', 'k6', 'k7', 'k8', 'k0']);
		expect(wheel.due(5_000, 100)).toEqual([]);
	});

	it('keeps a bucket larger than one segment whole: each key once, in order, removals skipped', () => {
		const wheel = new ExpiryWheel<string>();
		const count = SEGMENT_SIZE * 3 + 5;
		for (let i = 0; i < count; i++) wheel.add(`s${i}`, 7_200);
		// one from the first segment, one from a middle one, the last key of all
		const removed = new Set(['s0', `s${SEGMENT_SIZE + 17}`, `s${count - 1}`]);
		for (const key of removed) wheel.remove(key, 7_200);
		const seen: string[] = [];
		for (let keys = wheel.due(8_000, 1000); keys.length > 0; keys = wheel.due(8_000, 1000)) {
			expect(keys.length).toBeLessThanOrEqual(1000);
			seen.push(...keys);
		}
		expect(seen).toEqual(Array.from({ length: count }, (_, i) => `s${i}`).filter((key) => !removed.has(key)));
	});

	it('hands out keys added to a many-segment bucket while it is being handed out', () => {
		const wheel = new ExpiryWheel<string>();
		const count = SEGMENT_SIZE * 2;
		for (let i = 0; i < count; i++) wheel.add(`m${i}`, 3_000);
		const first = wheel.due(3_000, 10);
		expect(first).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
		// one already handed out (and dropped by the store) comes back, and the bucket grows a
		// segment: both must come round before the bucket is dropped
		wheel.add('m0', 2_500);
		for (let i = 0; i < SEGMENT_SIZE; i++) wheel.add(`late${i}`, 2_900);
		const rest: string[] = [];
		for (let keys = wheel.due(3_000, 999); keys.length > 0; keys = wheel.due(3_000, 999)) rest.push(...keys);
		expect(rest).toEqual([
			...Array.from({ length: count - 10 }, (_, i) => `m${i + 10}`),
			'm0',
			...Array.from({ length: SEGMENT_SIZE }, (_, i) => `late${i}`),
		]);
	});

	it('drops a bucket once its last key is removed, and still hands out a key added back into its second', () => {
		const wheel = new ExpiryWheel<string>();
		// keys set again before they expire (sessions under a ttl, refreshed): each leaves its
		// earlier second empty
		for (let i = 0; i < 100; i++) {
			if (i > 0) wheel.remove('session', i * 1_000);
			wheel.add('session', (i + 1) * 1_000);
		}
		expect(wheel.bucketCount).toBe(1);
		// a second emptied and then used again: its id is in the heap once, handed out once
		wheel.add('a', 500_000);
		wheel.remove('a', 500_000);
		wheel.add('b', 500_000);
		// the 99 emptied seconds count against the limit, with the key handed out
		expect(wheel.due(499_999, 100)).toEqual(['session']);
		expect(wheel.due(500_000, 10)).toEqual(['b']);
		expect(wheel.due(600_000, 10)).toEqual([]);
		expect(wheel.bucketCount).toBe(0);
	});

	it('keeps one heap entry per second, however often its bucket is emptied and made again', () => {
		const wheel = new ExpiryWheel<string>();
		// one key set again and again within its second (a session re-set under a ttl)
		for (let i = 0; i < 10_000; i++) {
			wheel.add('hot', 5_500);
			wheel.remove('hot', 5_500);
		}
		wheel.add('hot', 5_500);
		expect(wheel.heapSize).toBe(1);
		expect(wheel.due(6_000, 100)).toEqual(['hot']);
		expect(wheel.heapSize).toBe(0);
	});

	it('keeps no id of an emptied second: memory follows the seconds that hold keys', () => {
		const wheel = new ExpiryWheel<string>();
		for (let second = 1; second <= 500; second++) {
			wheel.add(`k${second}`, second * 1000);
			wheel.remove(`k${second}`, second * 1000);
		}
		wheel.add('live', 501_000);
		expect(wheel.heapSize).toBe(1);
		// one session set again once a second, under a long ttl: each set empties the second before
		for (let second = 1; second <= 100_000; second++) {
			if (second > 1) wheel.remove('session', (second - 1) * 1000 + 30 * 86_400_000);
			wheel.add('session', second * 1000 + 30 * 86_400_000);
		}
		expect(wheel.heapSize).toBe(2);
		expect(wheel.bucketCount).toBe(2);
		expect(wheel.due(600_000, 100)).toEqual(['live']);
		expect(wheel.heapSize).toBe(1);
	});

	it('hands out every key in time order through any mix of adds and removes', () => {
		const wheel = new ExpiryWheel<string>();
		const expiries = new Map<string, number>();
		// a fixed pseudo-random walk (mulberry32): the same run every time
		let seed = 12345;
		const next = (n: number) => {
			seed = (seed + 0x6d2b79f5) | 0;
			let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
			t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
			return ((t ^ (t >>> 14)) >>> 0) % n;
		};
		for (let op = 0; op < 20_000; op++) {
			const key = `k${next(300)}`;
			const old = expiries.get(key);
			if (old !== undefined) wheel.remove(key, old);
			if (next(4) === 0) {
				expiries.delete(key);
			} else {
				const expiresAt = (1 + next(2_000)) * 1000 - next(1000);
				wheel.add(key, expiresAt);
				expiries.set(key, expiresAt);
			}
		}
		expect(wheel.bucketCount).toBe(new Set([...expiries.values()].map((at) => Math.ceil(at / 1000))).size);
		expect(wheel.heapSize).toBe(wheel.bucketCount);
		// a walk that leaves keys in many seconds, so the order below says something
		expect(wheel.bucketCount).toBeGreaterThan(150);
		const handed: string[] = [];
		for (let call = 0; call < 1_000 && handed.length < expiries.size; call++) {
			handed.push(...wheel.due(Number.MAX_SAFE_INTEGER, 7));
		}
		expect(new Set(handed)).toEqual(new Set(expiries.keys()));
		expect(handed).toHaveLength(expiries.size);
		const seconds = handed.map((key) => Math.ceil(expiries.get(key)! / 1000));
		expect(seconds).toEqual([...seconds].sort((a, b) => a - b));
		expect(wheel.heapSize).toBe(0);
	});

	it('forgets everything on clear', () => {
		const wheel = new ExpiryWheel<string>();
		wheel.add('a', 1_000);
		wheel.add('b', 1_000);
		expect(wheel.due(1_000, 1)).toEqual(['a']);
		wheel.clear();
		expect(wheel.due(1_000, 10)).toEqual([]);
		wheel.add('c', 1_000);
		expect(wheel.due(1_000, 10)).toEqual(['c']);
	});
});
