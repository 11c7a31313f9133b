import { describe, expect, it } from 'vitest';

import { TIMED_OUT, waitBounded } from './wait-bounded.ts';

const never = new Promise<never>(() => {});

describe('waitBounded', () => {
	it('settles as the value does when it comes in time', async () => {
		await expect(waitBounded(1, 1_000, undefined)).resolves.toBe(1);
		await expect(waitBounded(Promise.resolve(2), 1_000, undefined)).resolves.toBe(2);
		const error = new Error('store down');
		await expect(waitBounded(Promise.reject(error), 1_000, undefined)).rejects.toBe(error);
	});

	it('resolves TIMED_OUT when the value outlasts the time limit', async () => {
		await expect(waitBounded(never, 10, undefined)).resolves.toBe(TIMED_OUT);
	});

	it("rejects with the signal's reason when aborted, before or while waiting", async () => {
		const reason = new Error('gave up');
		await expect(waitBounded(never, 60_000, AbortSignal.abort(reason))).rejects.toBe(reason);

		const controller = new AbortController();
		const pending = waitBounded(never, 60_000, controller.signal);
		controller.abort(reason);
		await expect(pending).rejects.toBe(reason);
	});

	it('leaves no rejection unhandled when the signal had aborted before it was called', async () => {
		const unhandled: unknown[] = [];
		const onUnhandled = (reason: unknown) => unhandled.push(reason);
		process.on('unhandledRejection', onUnhandled);
		try {
			const reason = new Error('gave up');
			// a cache read that fails after the caller gave up
			const failing = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('store down')), 5));
			await expect(waitBounded(failing, 60_000, AbortSignal.abort(reason))).rejects.toBe(reason);
			await new Promise((resolve) => setTimeout(resolve, 30));
			expect(unhandled).toEqual([]);
		} finally {
			process.off('unhandledRejection', onUnhandled);
		}
	});
});
