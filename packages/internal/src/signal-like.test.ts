import { describe, expect, it } from 'vitest';

import { isSignalLike } from './signal-like.ts';

describe('isSignalLike', () => {
	it('takes a native signal and one shaped like it (another realm, a polyfill)', () => {
		expect(isSignalLike(new AbortController().signal)).toBe(true);
		expect(isSignalLike(AbortSignal.timeout(1_000))).toBe(true);
		const polyfill = { aborted: false, addEventListener() {}, removeEventListener() {} };
		expect(isSignalLike(polyfill)).toBe(true);
	});

	it('refuses the controller, absent values and half-shaped objects', () => {
		for (const value of [
			new AbortController(),
			undefined,
			null,
			true,
			'signal',
			{ aborted: 'false', addEventListener() {}, removeEventListener() {} },
			{ aborted: false, addEventListener() {} },
		]) {
			expect(isSignalLike(value)).toBe(false);
		}
	});
});
