import { describe, expect, it } from 'vitest';

import { ExpiryWheel } from './expiry-wheel.ts';

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
