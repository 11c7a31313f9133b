import { describe, expect, it } from 'vitest';

import { parseHttpDate } from './http-date.ts';

const GMT = Date.UTC(1994, 10, 6, 8, 49, 37);

describe('parseHttpDate', () => {
	it('reads the three forms of RFC 9110 §5.6.7 as the same instant', () => {
		expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(GMT);
		expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(GMT);
		expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(GMT);
	});

	it('reads an IMF-fixdate whose day has one digit, as RFC 5322 writes it', () => {
		expect(parseHttpDate('Sun, 6 Nov 1994 08:49:37 GMT')).toBe(GMT);
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

	it('gives NaN for what is none of the three forms though it ends in GMT, or a time past its range', () => {
		for (const value of [
			'-5 GMT',
			'1.5 GMT',
			'2026 GMT',
			'Dec 2026 GMT',
			'Thu, 31 Feb 1994 08:49:37 GMT',
			'Sun Nov  6 08:99:99 1994',
		])
			expect(parseHttpDate(value), value).toBeNaN();
	});

	it('reads a two-digit RFC 850 year as the most recent past year ending so, within 50 years ahead', () => {
		const thisYear = new Date().getUTCFullYear();
		const ahead = (thisYear + 49) % 100;
		const at = parseHttpDate(`Monday, 01-Jan-${String(ahead).padStart(2, '0')} 00:00:00 GMT`);
		expect(new Date(at).getUTCFullYear()).toBe(thisYear + 49);
		const past = (thisYear + 51) % 100;
		const back = parseHttpDate(`Monday, 01-Jan-${String(past).padStart(2, '0')} 00:00:00 GMT`);
		expect(new Date(back).getUTCFullYear()).toBe(thisYear + 51 - 100);
	});
});
