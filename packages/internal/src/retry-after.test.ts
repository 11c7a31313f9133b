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
