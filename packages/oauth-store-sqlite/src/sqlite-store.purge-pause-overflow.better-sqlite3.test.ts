import { MAX_TIMER_MS } from '@atcute-oauth/internal/timer-delay';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { tempFileEach } from './internal/test-files.ts';
import { openRawDatabase } from './internal/test-raw-database.ts';
import { SqliteStore } from './sqlite-store.ts';

describe('a checkpointInterval near its upper bound (2^31 - 1 ms, accepted)', () => {
	let path: string;
	const toClose = tempFileEach((file) => {
		path = file;
	});
	afterEach(() => {
		vi.restoreAllMocks();
	});

	// the pause after a burst of purge steps is 1.5 × the interval, longer than a timer can wait: a
	// longer delay fires after 1 ms (with a TimeoutOverflowWarning), and the purge, finding its pause
	// not over, ran every millisecond for weeks
	it('pauses the purge after a burst on timers a timer can wait', async () => {
		let now = 1_700_000_000_000;
		const store = new SqliteStore({
			path,
			now: () => now,
			purgeInterval: 1,
			purgeLimit: 1,
			checkpointInterval: 2_000_000_000,
		});
		toClose.push(store);
		for (let i = 0; i < 100; i++) await store.set(`k-${i}`, i, { expiresAt: now + 1 });
		const reader = openRawDatabase(path, { readonly: true });
		toClose.push(reader);
		const count = () => (reader.prepare('SELECT count(*) AS n FROM oauth_store').get() as { n: number }).n;
		const timers = vi.spyOn(globalThis, 'setTimeout');

		now += 10;
		await store.set('live', 1);
		// one burst: 32 steps of one row each, then the pause
		await vi.waitFor(() => expect(count()).toBe(101 - 32), { timeout: 5_000 });
		await vi.waitFor(() => expect(timers.mock.calls.some(([, delay]) => delay === MAX_TIMER_MS)).toBe(true), {
			timeout: 5_000,
		});
		expect(timers.mock.calls.filter(([, delay]) => (delay ?? 0) > MAX_TIMER_MS)).toEqual([]);
	});
});
