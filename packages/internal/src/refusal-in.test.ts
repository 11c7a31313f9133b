import { describe, expect, it } from 'vitest';

import { refusalIn } from './refusal-in.ts';

/** an error marked as a refusal, as an SSRF guard's is. */
const refusal = () => Object.assign(new Error('refused: 10.0.0.1 is private'), { transient: false });

describe('refusalIn', () => {
	it('finds the refusal itself, or under one or two causes, as fetch wraps it', () => {
		const error = refusal();
		expect(refusalIn(error)).toBe(error);
		expect(refusalIn(new TypeError('fetch failed', { cause: error }))).toBe(error);
		expect(refusalIn(new Error('outer', { cause: new TypeError('fetch failed', { cause: error }) }))).toBe(
			error,
		);
	});

	it('finds nothing in a failure that may pass, or one marked transient', () => {
		expect(refusalIn(new TypeError('fetch failed', { cause: new Error('ECONNRESET') }))).toBeUndefined();
		expect(refusalIn(Object.assign(new Error('later'), { transient: true }))).toBeUndefined();
		expect(refusalIn('refused')).toBeUndefined();
		expect(refusalIn(undefined)).toBeUndefined();
	});

	it('looks only a few levels deep, and never at a non-Error marked false', () => {
		let deep: Error = refusal();
		for (let i = 0; i < 4; i++) deep = new Error(`level ${i}`, { cause: deep });
		expect(refusalIn(deep)).toBeUndefined();
		expect(refusalIn(new Error('outer', { cause: { transient: false } }))).toBeUndefined();
	});
});
