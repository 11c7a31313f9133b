import { afterEach, describe, expect, it, vi } from 'vitest';

import { elapsedSince, laterMoment, momentNow } from './elapsed-on-both-clocks.ts';

// a lock keeps `confirmed = laterMoment(confirmed, sent)` on each confirmed renewal. after the wall
// clock is stepped back (NTP), the max keeps the pre-step wall reading, so the wall clock's count
// is short by the step for as long as real time takes to catch up; a machine that then sleeps
// (the monotonic clock standing still) past the lease reads "held"
describe('laterMoment after a wall clock stepped back, then a sleep', () => {
	afterEach(() => vi.useRealTimers());

	it('counts the sleep on the wall clock from the last confirmed moment', () => {
		vi.useFakeTimers({ toFake: ['Date', 'performance'], now: 1_000_000 });
		const LEASE = 30_000;
		let confirmed = momentNow();
		// 10 s later, NTP steps the wall clock back 5 minutes
		vi.advanceTimersByTime(10_000);
		vi.setSystemTime(Date.now() - 300_000);
		// a renewal sent now is confirmed
		confirmed = laterMoment(confirmed, momentNow());
		// the machine sleeps 60 s: only the wall clock moves
		vi.setSystemTime(Date.now() + 60_000);
		// the Redis lease (30 s from the renewal) ran out 30 s ago
		expect(elapsedSince(confirmed)).toBeGreaterThanOrEqual(LEASE);
	});
});
