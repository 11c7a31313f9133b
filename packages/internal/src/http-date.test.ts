import { describe, expect, it } from 'vitest';

import { parseHttpDate } from './http-date.ts';

const GMT = Date.UTC(1994, 10, 6, 8, 49, 37);

describe('parseHttpDate', () => {
	it('reads the three forms of RFC 9110 §5.6.7 as the same instant', () => {
		expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(GMT);
		expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(GMT);
		expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(GMT);
	});

	it('gives NaN for what names no zone and is no asctime date, or is no day of the calendar', () => {
		for (const value of [
			'',
			'-5',
			'1.5',
			'2026-12-05 10:00:00',
			'Sun, 06 Nov 1994 08:49:37',
			'Thu Feb 31 08:49:37 1994',
		])
			expect(parseHttpDate(value)).toBeNaN();
	});
});
