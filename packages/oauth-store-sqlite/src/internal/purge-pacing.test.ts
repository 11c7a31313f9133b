import { describe, expect, it } from 'vitest';

import { purgePause } from './purge-pacing.ts';

describe('purgePause', () => {
	it('is 0 where no worker checkpoints the file: SQLite checkpoints inside a commit, between our steps', () => {
		expect(purgePause(0)).toBe(0);
	});

	it('outlasts one checkpoint interval by half of it, and by at least 50 ms for the pass itself', () => {
		expect(purgePause(100)).toBe(150);
		expect(purgePause(1_000)).toBe(1_500);
		expect(purgePause(10)).toBe(60);
		expect(purgePause(1)).toBe(51);
	});
});
