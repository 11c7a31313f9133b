import { describe, expect, it } from 'vitest';

import { MAX_RETRY_AFTER_MS, retryAfterMs } from './retry-after.ts';

const at = (headers: Record<string, string>, now = Date.parse('2026-12-05T10:00:00Z')) =>
	retryAfterMs(new Headers(headers), now);

describe('retryAfterMs', () => {
	it('reads whole seconds', () => {
		expect(at({ 'retry-after': '120' })).toBe(120_000);
		expect(at({ 'retry-after': ' 0 ' })).toBe(0);
	});

	it("reads an HTTP date against the response's own Date, whatever the client clock says", () => {
		const headers = { 'retry-after': 'Sat, 05 Dec 2026 09:01:30 GMT', date: 'Sat, 05 Dec 2026 09:00:00 GMT' };
		// the client's clock is an hour ahead of the server's: the wait is still 90 s
		expect(at(headers)).toBe(90_000);
		// without a Date, the client's clock
		expect(at({ 'retry-after': 'Sat, 05 Dec 2026 10:00:30 GMT' })).toBe(30_000);
	});

	it('takes a date in the past as no wait, and caps a long one', () => {
		expect(at({ 'retry-after': 'Sat, 05 Dec 2026 09:00:00 GMT' })).toBe(0);
		expect(at({ 'retry-after': '31536000' })).toBe(MAX_RETRY_AFTER_MS);
	});

	it('gives undefined when absent or not valid', () => {
		expect(at({})).toBeUndefined();
		for (const value of ['', '-5', '1.5', 'soon', '12abc'])
			expect(at({ 'retry-after': value })).toBeUndefined();
	});
});

describe('retryAfterMs: the three HTTP-date forms (RFC 9110 §5.6.7)', () => {
	it('reads a Retry-After and a Date in asctime form as GMT, whatever the time zone of the process', () => {
		const zone = process.env.TZ;
		// a process on New York time: V8 reads a date with no zone as local time, five hours off
		process.env.TZ = 'America/New_York';
		try {
			expect(at({ 'retry-after': 'Sat Dec  5 10:00:30 2026' })).toBe(30_000);
			expect(at({ 'retry-after': 'Sat Dec  5 09:01:30 2026', date: 'Sat Dec  5 09:00:00 2026' })).toBe(
				90_000,
			);
			// an IMF-fixdate Retry-After counted from an asctime Date
			expect(at({ 'retry-after': 'Sat, 05 Dec 2026 09:01:30 GMT', date: 'Sat Dec  5 09:00:00 2026' })).toBe(
				90_000,
			);
		} finally {
			if (zone === undefined) delete process.env.TZ;
			else process.env.TZ = zone;
		}
	});

	it('reads the obsolete RFC 850 form', () => {
		expect(at({ 'retry-after': 'Saturday, 05-Dec-26 10:00:30 GMT' })).toBe(30_000);
	});
});
