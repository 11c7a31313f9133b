import { createMemoryLock } from '@atcute/oauth-client';
import { describe, expect, it } from 'vitest';

import { describeLock } from './describe-lock.ts';

// in-process only: there is no second instance to share its locks with
describeLock('createMemoryLock', async () => ({
	lock: createMemoryLock({ timeout: 500 }),
	cleanup: async () => {},
}));

describe('createMemoryLock (beyond the conformance suite)', () => {
	it('serves the waiters of one name in the order they came, as its README says', async () => {
		const lock = createMemoryLock({ timeout: 2_000 });
		const order: number[] = [];
		let release!: () => void;
		const held = lock('ordered', () => new Promise<void>((resolve) => (release = resolve)));
		const waiters = Array.from({ length: 5 }, (_, i) =>
			lock('ordered', async () => {
				order.push(i);
			}),
		);
		release();
		await Promise.all([held, ...waiters]);
		expect(order).toEqual([0, 1, 2, 3, 4]);
	});
});
