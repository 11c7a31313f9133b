import { describe, expect, it } from 'vitest';

import { ServerClocks } from './server-clocks.ts';

const ORIGIN = 'https://as.example';
const OURS = Date.UTC(2026, 11, 5, 12, 0, 0, 400);

/** headers of an answer dated `ms` (rounded down to the second, as `Date` is). */
const dated = (ms: number, extra: Record<string, string> = {}): Headers =>
	new Headers({ date: new Date(ms).toUTCString(), ...extra });

describe('ServerClocks', () => {
	it('keeps every server on our clock until one refuses it', () => {
		let now = OURS;
		const clocks = new ServerClocks({ now: () => now });
		clocks.observe(ORIGIN, dated(OURS + 3600_000));
		expect(clocks.offset(ORIGIN)).toBeUndefined();
		expect(clocks.now(ORIGIN)).toBe(OURS);
		now += 5;
		expect(clocks.now(ORIGIN)).toBe(OURS + 5);
	});

	it('puts a server on its own clock from a refusal, never ahead of it', () => {
		const now = OURS;
		const clocks = new ServerClocks({ now: () => now });
		// the server's clock is 90.7 s ahead: its Date reads the whole second
		expect(clocks.adopt(ORIGIN, dated(OURS + 90_700), undefined)).toBe(true);
		// 90.7 s ahead, read as 12:01:31 against our 12:00:00.4: 90.6 s
		expect(clocks.offset(ORIGIN)).toBe(90_600);
		expect(clocks.now(ORIGIN)).toBe(OURS + 90_600);
		expect(clocks.now('https://other.example')).toBe(OURS);
	});

	it('follows the Date of every later answer of a server on its own clock', () => {
		let now = OURS;
		const clocks = new ServerClocks({ now: () => now });
		clocks.adopt(ORIGIN, dated(OURS - 60_000), undefined);
		expect(clocks.offset(ORIGIN)).toBe(-60_400);
		// its clock was set forward to ours
		now += 2000;
		clocks.observe(ORIGIN, dated(now));
		expect(clocks.offset(ORIGIN)).toBe(-400);
		// an answer without a Date, or with one that is not a date, changes nothing
		clocks.observe(ORIGIN, new Headers());
		clocks.observe(ORIGIN, new Headers({ date: 'yesterday' }));
		expect(clocks.offset(ORIGIN)).toBe(-400);
	});

	it('keeps the first reading of one Date: the later ones are looser', () => {
		let now = OURS;
		const clocks = new ServerClocks({ now: () => now });
		clocks.adopt(ORIGIN, dated(OURS), undefined);
		expect(clocks.offset(ORIGIN)).toBe(-400);
		now += 500;
		clocks.observe(ORIGIN, dated(OURS));
		expect(clocks.offset(ORIGIN)).toBe(-400);
	});

	it("adds a cache's Age to the Date", () => {
		const clocks = new ServerClocks({ now: () => OURS });
		clocks.adopt(ORIGIN, dated(OURS - 300_000, { age: '300' }), undefined);
		expect(clocks.offset(ORIGIN)).toBe(-400);
		// an Age that is not a whole number of seconds is ignored
		clocks.adopt(ORIGIN, dated(OURS, { age: '1.5' }), undefined);
		expect(clocks.offset(ORIGIN)).toBe(-400);
	});

	it('says a retry is worth it only when the stamp would change by a second or more', () => {
		const clocks = new ServerClocks({ now: () => OURS });
		expect(clocks.adopt(ORIGIN, dated(OURS + 10_000), undefined)).toBe(true);
		expect(clocks.offset(ORIGIN)).toBe(9600);
		expect(clocks.adopt(ORIGIN, dated(OURS + 10_000), 9600)).toBe(false);
		expect(clocks.adopt(ORIGIN, dated(OURS + 10_500), 9600)).toBe(false);
		expect(clocks.adopt(ORIGIN, dated(OURS + 11_000), 9600)).toBe(true);
		expect(clocks.offset(ORIGIN)).toBe(10_600);
	});

	it('takes nothing from a refusal without a usable Date, or one more than a day away', () => {
		const clocks = new ServerClocks({ now: () => OURS });
		expect(clocks.adopt(ORIGIN, new Headers(), undefined)).toBe(false);
		expect(clocks.adopt(ORIGIN, new Headers({ date: 'not a date' }), undefined)).toBe(false);
		expect(clocks.adopt(ORIGIN, dated(OURS - 25 * 3600_000), undefined)).toBe(false);
		expect(clocks.adopt(ORIGIN, new Headers({ date: 'Thu, 01 Jan 1970 00:00:00 GMT' }), undefined)).toBe(
			false,
		);
		expect(clocks.offset(ORIGIN)).toBeUndefined();
		// a day is still a clock to follow
		expect(clocks.adopt(ORIGIN, dated(OURS + 23 * 3600_000), undefined)).toBe(true);
	});

	it('forgets the server put on its own clock longest ago past maxSize', () => {
		const clocks = new ServerClocks({ now: () => OURS, maxSize: 2 });
		for (const origin of ['https://a.example', 'https://b.example', 'https://c.example']) {
			clocks.adopt(origin, dated(OURS + 5000), undefined);
		}
		expect(clocks.offset('https://a.example')).toBeUndefined();
		expect(clocks.offset('https://b.example')).toBe(4600);
		expect(clocks.offset('https://c.example')).toBe(4600);
		// adopting again makes it the newest
		clocks.adopt('https://b.example', dated(OURS + 5000), undefined);
		clocks.adopt('https://a.example', dated(OURS + 5000), undefined);
		expect(clocks.offset('https://c.example')).toBeUndefined();
		expect(clocks.offset('https://b.example')).toBe(4600);
	});

	it('refuses a clock that is not a function and a bad maxSize, naming them', () => {
		expect(() => new ServerClocks({ now: Date.now() as never })).toThrow(
			/now must be a function returning milliseconds since the epoch \(as Date.now, not its result\), got number/,
		);
		for (const maxSize of [0, 1.5, -1, Number.NaN]) {
			expect(() => new ServerClocks({ maxSize })).toThrow(/maxSize must be a positive integer/);
		}
		expect(new ServerClocks().now(ORIGIN)).toBeLessThanOrEqual(Date.now());
	});
});
