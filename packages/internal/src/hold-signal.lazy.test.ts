import { describe, expect, it } from 'vitest';

import { createHoldSignal, watchAborted } from './hold-signal.ts';

// a lock that finds a loss only when its signal is read (the SQLite lock, for a lease past its time
// after the event loop stalled): the checked lock's signal, which the client reads right before it
// sends a refresh token, must ask it then, not wait for an abort event nobody has set off yet
describe('createHoldSignal following a signal that checks when read', () => {
	it("reads the lock's own signal when read, and aborts with its reason", () => {
		const lock = new AbortController();
		let leaseOver = false;
		const reason = new Error('the lease was taken over');
		watchAborted(lock.signal, () => {
			if (leaseOver) lock.abort(reason);
		});
		const hold = createHoldSignal();
		const signal = hold.follow(lock.signal);
		expect(signal.aborted).toBe(false);
		leaseOver = true;
		expect(signal.aborted).toBe(true);
		expect(signal.reason).toBe(reason);
	});

	it('no longer reads it once unfollowed (the function has finished)', () => {
		const lock = new AbortController();
		let reads = 0;
		watchAborted(lock.signal, () => {
			reads++;
		});
		const hold = createHoldSignal();
		const signal = hold.follow(lock.signal);
		reads = 0;
		expect(signal.aborted).toBe(false);
		expect(reads).toBe(1);
		hold.unfollow();
		expect(signal.aborted).toBe(false);
		expect(reads).toBe(1);
	});

	it('answers a read made while it checks as it stands, without checking again', () => {
		const controller = new AbortController();
		let checks = 0;
		watchAborted(controller.signal, () => {
			checks++;
			// the abort a check makes reads the signal (trackHolding's lose does)
			if (!controller.signal.aborted) controller.abort();
		});
		expect(controller.signal.aborted).toBe(true);
		expect(checks).toBe(1);
		expect(controller.signal.aborted).toBe(true);
		expect(checks).toBe(1);
	});
});
