import { describe, expect, it } from 'vitest';

import { ServerClocks } from './server-clocks.ts';

const ORIGIN = 'https://as.example';
const OURS = Date.UTC(2026, 11, 5, 12, 0, 0, 400);

/** headers of an answer dated `ms` (rounded down to the second, as `Date` is). */
const dated = (ms: number): Headers => new Headers({ date: new Date(ms).toUTCString() });

/** an answer with `status`, dated `ms`. */
const answer = (status: number, ms: number) => ({ status, headers: dated(ms) });

describe('ServerClocks', () => {
	it('keeps every server on our clock until one refuses it', () => {
		let now = OURS;
		const clocks = new ServerClocks({ now: () => now });
		clocks.observe(ORIGIN, answer(200, OURS + 3600_000), undefined);
		expect(clocks.offset(ORIGIN)).toBeUndefined();
		expect(clocks.now(ORIGIN)).toBe(OURS);
		now += 5;
		expect(clocks.now(ORIGIN)).toBe(OURS + 5);
	});

	it('puts a server on its own clock from a refusal, never ahead of it', () => {
		const clocks = new ServerClocks({ now: () => OURS });
		// the server's clock is 90.7 s ahead: its Date reads the whole second
		expect(clocks.adopt(ORIGIN, dated(OURS + 90_700), undefined)).toBe(true);
		// read as 12:01:31 against our 12:00:00.4: 90.6 s
		expect(clocks.offset(ORIGIN)).toBe(90_600);
		expect(clocks.now(ORIGIN)).toBe(OURS + 90_600);
		expect(clocks.now('https://other.example')).toBe(OURS);
	});

	it('follows later answers only upwards: every reading is behind the server, a lower one older', () => {
		let now = OURS;
		const clocks = new ServerClocks({ now: () => now });
		clocks.adopt(ORIGIN, dated(OURS - 60_000), undefined);
		expect(clocks.offset(ORIGIN)).toBe(-60_400);
		// a later answer, read 0.3 s after it was made: a closer reading
		now = OURS + 2_000;
		// made at 11:59:03.0, read at 12:00:02.4
		clocks.observe(ORIGIN, answer(200, OURS - 58_000 + 600), -60_400);
		expect(clocks.offset(ORIGIN)).toBe(-59_400);
		// an answer that sat somewhere for 5 s reads lower: ignored
		now = OURS + 10_000;
		clocks.observe(ORIGIN, answer(200, OURS - 55_000), -60_400);
		expect(clocks.offset(ORIGIN)).toBe(-59_400);
		// so are an answer without a Date, one that is not a date, and one too long to be one
		clocks.observe(ORIGIN, { status: 200, headers: new Headers() }, -60_400);
		clocks.observe(ORIGIN, { status: 200, headers: new Headers({ date: 'yesterday' }) }, -60_400);
		const padded = `${new Date(now + 3600_000).toUTCString()} (${'x'.repeat(100)})`;
		clocks.observe(ORIGIN, { status: 200, headers: new Headers({ date: padded }) }, -60_400);
		expect(clocks.offset(ORIGIN)).toBe(-59_400);
	});

	it('follows a clock set back from the refusal it causes', () => {
		const clocks = new ServerClocks({ now: () => OURS });
		clocks.adopt(ORIGIN, dated(OURS + 600_000), undefined);
		clocks.observe(ORIGIN, answer(200, OURS + 600_000), 599_600);
		// set back 10 minutes: our stamps are now ahead of it, and it refuses them
		expect(clocks.adopt(ORIGIN, dated(OURS), 599_600)).toBe(true);
		expect(clocks.offset(ORIGIN)).toBe(-400);
	});

	it('says a retry is worth it only when the stamp would change by a second or more', () => {
		const clocks = new ServerClocks({ now: () => OURS });
		expect(clocks.adopt(ORIGIN, dated(OURS + 10_000), undefined)).toBe(true);
		expect(clocks.offset(ORIGIN)).toBe(9600);
		clocks.observe(ORIGIN, answer(200, OURS + 10_000), 9600);
		// once a request on its clock was accepted, a refusal the clock does not explain is not about it
		expect(clocks.adopt(ORIGIN, dated(OURS + 10_000), 9600)).toBe(false);
		expect(clocks.adopt(ORIGIN, dated(OURS + 10_500), 9600)).toBe(false);
		expect(clocks.offset(ORIGIN)).toBe(9600);
		expect(clocks.adopt(ORIGIN, dated(OURS + 11_000), 9600)).toBe(true);
		expect(clocks.offset(ORIGIN)).toBe(10_600);
	});

	it('puts a server back on our clock for 10 minutes when it refuses its own before accepting any request on it', () => {
		// a proxy's Date 10 minutes ahead of the server that checks the stamps
		let now = OURS;
		const clocks = new ServerClocks({ now: () => now });
		expect(clocks.adopt(ORIGIN, dated(OURS + 600_000), undefined)).toBe(true);
		// refused on its "clock", which has not moved: back to ours, and worth a retry there
		expect(clocks.adopt(ORIGIN, dated(OURS + 600_000), 599_600)).toBe(true);
		expect(clocks.offset(ORIGIN)).toBeUndefined();
		// refusals on ours are then not about the clock, for 10 minutes
		now += 9 * 60_000;
		expect(clocks.adopt(ORIGIN, dated(now + 600_000), undefined)).toBe(false);
		expect(clocks.offset(ORIGIN)).toBeUndefined();
		now += 60_000;
		expect(clocks.adopt(ORIGIN, dated(now + 600_000), undefined)).toBe(true);
		expect(clocks.offset(ORIGIN)).toBe(599_600);
		// an answer of 400 or more confirms nothing
		clocks.observe(ORIGIN, answer(401, now + 600_000), 599_600);
		expect(clocks.adopt(ORIGIN, dated(now + 600_000), 599_600)).toBe(true);
		expect(clocks.offset(ORIGIN)).toBeUndefined();
	});

	it('distrusts a server for 10 minutes from when it sees our clock set back, never longer', () => {
		let now = OURS;
		const clocks = new ServerClocks({ now: () => now });
		clocks.adopt(ORIGIN, dated(OURS + 600_000), undefined);
		clocks.adopt(ORIGIN, dated(OURS + 600_000), 599_600);
		// our clock set back an hour, a minute in: the distrust counts again from here, 10 minutes
		now += 60_000 - 3600_000;
		expect(clocks.adopt(ORIGIN, dated(now + 600_000), undefined)).toBe(false);
		now += 9 * 60_000;
		expect(clocks.adopt(ORIGIN, dated(now + 600_000), undefined)).toBe(false);
		now += 60_000;
		expect(clocks.adopt(ORIGIN, dated(now + 600_000), undefined)).toBe(true);
		expect(clocks.offset(ORIGIN)).toBe(599_600);
	});

	it('is not confirmed by an answer to a request stamped on ours, sent before it was put on its own', () => {
		// a proxy's Date 10 minutes ahead; a request on our clock was in flight, and passes
		const clocks = new ServerClocks({ now: () => OURS });
		clocks.adopt(ORIGIN, dated(OURS + 600_000), undefined);
		clocks.observe(ORIGIN, answer(200, OURS + 600_000), undefined);
		// the retry on its "clock" is refused: back to ours
		expect(clocks.adopt(ORIGIN, dated(OURS + 600_000), 599_600)).toBe(true);
		expect(clocks.offset(ORIGIN)).toBeUndefined();
	});

	it('keeps a confirmed clock confirmed when a refusal reads it a second lower (a late answer)', () => {
		const clocks = new ServerClocks({ now: () => OURS });
		clocks.adopt(ORIGIN, dated(OURS + 600_900), undefined);
		clocks.observe(ORIGIN, answer(200, OURS + 600_900), 600_600);
		expect(clocks.offset(ORIGIN)).toBe(600_600);
		// a refusal not about the clock, made late in its second and slow to arrive, reads 1.2 s lower
		expect(clocks.adopt(ORIGIN, dated(OURS + 599_900), 600_600)).toBe(true);
		expect(clocks.offset(ORIGIN)).toBe(599_600);
		// its retry is refused the same way: still confirmed, so still on its clock, and no retry
		expect(clocks.adopt(ORIGIN, dated(OURS + 599_900), 599_600)).toBe(false);
		expect(clocks.offset(ORIGIN)).toBe(599_600);
	});

	it('keeps a reading another request made meanwhile', () => {
		const clocks = new ServerClocks({ now: () => OURS });
		clocks.adopt(ORIGIN, dated(OURS + 600_000), undefined);
		clocks.observe(ORIGIN, answer(200, OURS + 600_000), 599_600);
		// a request stamped on ours before that, refused after
		expect(clocks.adopt(ORIGIN, dated(OURS + 599_000), undefined)).toBe(true);
		expect(clocks.offset(ORIGIN)).toBe(599_600);
		// still confirmed: a later refusal the clock does not explain is not about it
		expect(clocks.adopt(ORIGIN, dated(OURS + 600_000), 599_600)).toBe(false);
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
		// put there again (its clock moved): the newest
		clocks.adopt('https://b.example', dated(OURS + 9000), 4600);
		clocks.adopt('https://a.example', dated(OURS + 5000), undefined);
		expect(clocks.offset('https://c.example')).toBeUndefined();
		expect(clocks.offset('https://b.example')).toBe(8600);
	});

	it('keeps past maxSize a server whose clock an accepted request confirmed since', () => {
		const clocks = new ServerClocks({ now: () => OURS, maxSize: 2 });
		clocks.adopt('https://a.example', dated(OURS + 5000), undefined);
		clocks.adopt('https://b.example', dated(OURS + 5000), undefined);
		// a request stamped on a's clock is accepted; then another server is put on its own
		clocks.observe('https://a.example', { status: 200, headers: new Headers() }, 4600);
		clocks.adopt('https://c.example', dated(OURS + 5000), undefined);
		expect(clocks.offset('https://a.example')).toBe(4600);
		expect(clocks.offset('https://b.example')).toBeUndefined();
		// a refusal, or an answer to a request stamped on ours, does not keep it
		clocks.observe('https://a.example', { status: 200, headers: new Headers() }, 4600);
		clocks.observe('https://c.example', { status: 401, headers: new Headers() }, 4600);
		clocks.observe('https://c.example', { status: 200, headers: new Headers() }, undefined);
		clocks.adopt('https://d.example', dated(OURS + 5000), undefined);
		expect(clocks.offset('https://c.example')).toBeUndefined();
		expect(clocks.offset('https://a.example')).toBe(4600);
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

	it('refuses options that are not an object with a TypeError saying so', () => {
		expect(() => new ServerClocks(null as never)).toThrow(
			new TypeError('ServerClocks options must be an object ({ now?, maxSize? }), got null'),
		);
		expect(() => new ServerClocks(1000 as never)).toThrow(
			new TypeError('ServerClocks options must be an object ({ now?, maxSize? }), got number'),
		);
		expect(new ServerClocks(undefined).offset(ORIGIN)).toBeUndefined();
	});

	it('reads a Date in asctime form as GMT, whatever the time zone of the process (RFC 9110 §5.6.7)', () => {
		const zone = process.env.TZ;
		// V8 reads a date that names no zone as local time: five hours off in New York
		process.env.TZ = 'America/New_York';
		try {
			const clocks = new ServerClocks({ now: () => OURS });
			// the server's clock is 90.7 s ahead, its Date in the obsolete asctime form
			expect(clocks.adopt(ORIGIN, new Headers({ date: 'Sat Dec  5 12:01:31 2026' }), undefined)).toBe(true);
			expect(clocks.offset(ORIGIN)).toBe(90_600);
		} finally {
			if (zone === undefined) delete process.env.TZ;
			else process.env.TZ = zone;
		}
	});
});
