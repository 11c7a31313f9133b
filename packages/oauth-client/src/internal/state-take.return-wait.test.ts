import { afterEach, describe, expect, it, vi } from 'vitest';

import type { StoredState } from '../stored-types.ts';
import { MapStore } from '../test-utils/map-store.ts';
import { createStateTake, returnState } from './state-take.ts';

/**
 * a put-back whose write never settles (one request lost by a store client with no time limit,
 * while its later requests go through) must not hold every later take of that state for ever: a
 * callback without a signal (a reload) would hang, and close() with it.
 */
describe('createStateTake: a put-back that never settles', () => {
	afterEach(() => {
		vi.useRealTimers();
	});

	it.each([true, false])(
		'does not hold a take of that state for ever (atomic take: %s)',
		async (atomicTake) => {
			vi.useFakeTimers();
			const states = new MapStore<StoredState>({ atomicTake });
			returnState(states, 'stuck', new Promise<void>(() => {}));
			let settled = false;
			const taking = createStateTake(states)('stuck').finally(() => {
				settled = true;
			});
			await vi.advanceTimersByTimeAsync(10 * 60 * 1000);
			expect(settled).toBe(true);
			expect(await taking).toBeUndefined();
		},
	);
});
