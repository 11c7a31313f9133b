import { describe, expect, it } from 'vitest';

import { lockFileEach } from './internal/test-lock-file.ts';

const BUSY_MS = 300;
const LEASE_MS = 1_000;

// a renewal that waits out its whole busy timeout on a busy database, once the lease is overdue,
// reports the loss; reporting reads the holder's signal, whose watcher renews an overdue lease:
// renewing there again would block the event loop for a second busy timeout in the same turn
describe('createSqliteLock, a renewal that fails on a busy database once the lease is overdue', () => {
	const { open, raw } = lockFileEach();

	it('renews once per turn of the event loop, not again from the loss it reports', async () => {
		// each renewal reads the wall clock once (the lease's new end); the turns are told apart by
		// a timer that can run only between them
		let turn = 0;
		const readsPerTurn = new Map<number, number>();
		let holding = false;
		const now = () => {
			if (holding) readsPerTurn.set(turn, (readsPerTurn.get(turn) ?? 0) + 1);
			return Date.now();
		};
		const lock = open({ lease: LEASE_MS, busyTimeout: BUSY_MS, onLeaseLost: () => {}, now });
		const other = raw();
		await lock('did:plc:busy', async (signal) => {
			holding = true;
			const ticks = setInterval(() => turn++, 1);
			// another process holds the write lock from here on: every renewal waits BUSY_MS and fails
			other.exec('BEGIN IMMEDIATE');
			await new Promise<void>((resolve) =>
				signal!.addEventListener('abort', () => resolve(), { once: true }),
			);
			holding = false;
			clearInterval(ticks);
			other.exec('ROLLBACK');
		});
		expect(readsPerTurn.size).toBeGreaterThan(0);
		expect(Math.max(...readsPerTurn.values())).toBe(1);
	}, 30_000);
});
