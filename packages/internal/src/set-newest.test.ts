import { describe, expect, it } from 'vitest';

import { setNewest } from './set-newest.ts';

describe('setNewest', () => {
	it('moves a key set again to the newest place and drops the oldest past maxSize', () => {
		const map = new Map<string, number>();
		setNewest(map, 'a', 1, 2);
		setNewest(map, 'b', 2, 2);
		setNewest(map, 'a', 3, 2);
		setNewest(map, 'c', 4, 2);
		expect([...map]).toEqual([
			['a', 3],
			['c', 4],
		]);
	});

	it('keeps the entry just set at maxSize 1', () => {
		const map = new Map([['a', 1]]);
		setNewest(map, 'b', 2, 1);
		expect([...map]).toEqual([['b', 2]]);
	});
});
