import { describe, expect, it } from 'vitest';

import { waitForLock } from './wait-for-lock.ts';

describe('waitForLock', () => {
	it('rejects at once for a signal aborted before the call, while the function has not started', async () => {
		const reason = new Error('gone');
		const controller = new AbortController();
		controller.abort(reason);
		// a lock held elsewhere: its function never starts here
		const run = new Promise<number>(() => {});
		await expect(waitForLock(run, controller.signal, () => false)).rejects.toBe(reason);
	});

	it('waits for a function that has started, whatever the signal says', async () => {
		const controller = new AbortController();
		controller.abort(new Error('gone'));
		await expect(waitForLock(Promise.resolve(7), controller.signal, () => true)).resolves.toBe(7);
	});
});
