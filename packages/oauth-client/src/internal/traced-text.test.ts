import { describe, expect, it } from 'vitest';

import { tracedText } from './traced-text.ts';

describe('tracedText', () => {
	it('keeps text within the limit as it is', () => {
		expect(tracedText('alice.test', 256)).toBe('alice.test');
		expect(tracedText('a'.repeat(256), 256)).toBe('a'.repeat(256));
	});

	it('cuts longer text to the limit', () => {
		expect(tracedText('a'.repeat(1_000_000), 256)).toBe('a'.repeat(256));
	});

	it('never leaves half of a surrogate pair at the cut', () => {
		const cut = tracedText(`${'a'.repeat(255)}😀`, 256);
		expect(cut).toBe('a'.repeat(255));
		expect(/[\uD800-\uDBFF]$/.test(cut)).toBe(false);
		// a pair that fits whole stays
		expect(tracedText(`${'a'.repeat(254)}😀b`, 256)).toBe(`${'a'.repeat(254)}😀`);
	});
});
