import { LockTimeoutError } from '@atcute/oauth-client';
import { describe, expect, it } from 'vitest';

import type { LeaseLostEvent } from './errors.ts';
import { lockFileEach } from './internal/test-lock-file.ts';

/** the host's wall clock, which the test steps (an NTP step, a VM resumed): timers are not moved. */
const steppedClock = () => {
	let step = 0;
	return {
		now: () => Date.now() + step,
		stepBy: (ms: number) => {
			step += ms;
		},
	};
};

describe('createSqliteLock when the wall clock steps forward', () => {
	const { open, raw } = lockFileEach();
	const names = () =>
		(raw().prepare('SELECT name FROM oauth_locks ORDER BY name').all() as { name: string }[]).map(
			(row) => row.name,
		);

	it('does not let a second holder take a live lease whose expiry the step went past', async () => {
		const clock = steppedClock();
		const reports: LeaseLostEvent[] = [];
		// two processes on one host read the same wall clock; each has been running (and locking) before
		const holder = open({ now: clock.now, onLeaseLost: (event) => reports.push(event) });
		const waiter = open({ now: clock.now, timeout: 300 });
		await waiter('did:plc:warm-up', async () => {});

		const result = await holder('did:plc:a', async () => {
			// the holder runs (its renewal timer, every 10 s, has not fired yet): the clock steps an hour ahead
			clock.stepBy(60 * 60 * 1000);
			return waiter('did:plc:a', async () => 'second holder got in').catch((err: unknown) => err);
		});

		expect(result).toBeInstanceOf(LockTimeoutError);
		expect(reports).toEqual([]);
	});

	it("does not sweep away a live lease's row when the clock steps past its expiry and the sweep's grace", async () => {
		const clock = steppedClock();
		const reports: LeaseLostEvent[] = [];
		const holder = open({ now: clock.now, onLeaseLost: (event) => reports.push(event) });
		const other = open({ now: clock.now });
		await other('did:plc:warm-up', async () => {});

		await holder('did:plc:a', async () => {
			clock.stepBy(60 * 60 * 1000);
			// enough releases for a sweep of leases that ran out
			for (let i = 0; i < 64; i++) await other(`did:plc:other${i}`, async () => {});
			expect(names()).toEqual(['did:plc:a']);
		});

		expect(reports).toEqual([]);
	});
});
