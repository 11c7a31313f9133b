import { describe, expect, it } from 'vitest';

import { formatVersionProblemOf } from './read-stored-session.ts';

// an operator reads this to decide what to do: "newer" says "upgrade this process", which is
// wrong for a `v` no release writes (damaged, or written by another tool), and must say what was found
describe('the reason a stored record’s format version (v) is refused', () => {
	it('says a higher version is newer, naming it', () => {
		expect(formatVersionProblemOf({ v: 2 })).toBe(
			'it was written in a newer format (v: 2) than the 1 this version reads',
		);
	});

	it.each([
		[0, 'v: 0'],
		[-1, 'v: -1'],
		[1.5, 'v: 1.5'],
		['2', 'v: "2"'],
		[null, 'v: null'],
		[[2], 'v: an array'],
	])('does not call v %j newer, and names it', (v, named) => {
		const why = formatVersionProblemOf({ v });
		expect(why).not.toMatch(/newer/);
		expect(why).toContain(named);
		expect(why).toContain('the 1 this version reads');
	});

	it('names no string that is not a short number (it could be anything)', () => {
		expect(formatVersionProblemOf({ v: 'eyJhbGciOi-a-token' })).toContain('v: string');
	});

	it('reads v 1 and none as this version’s format', () => {
		expect(formatVersionProblemOf({ v: 1 })).toBeUndefined();
		expect(formatVersionProblemOf({})).toBeUndefined();
	});
});
