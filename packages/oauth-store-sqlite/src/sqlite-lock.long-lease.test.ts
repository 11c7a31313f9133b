import { LOCK_WAIT_MS, LockTimeoutError } from '@atcute/oauth-client';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { leaveKilledHolder } from './internal/test-killed-holder.ts';
import { lockFileEach } from './internal/test-lock-file.ts';

/** a lease longer than the default wait (LOCK_WAIT_MS). */
const LEASE_MS = LOCK_WAIT_MS + 30_000;

// a crashed holder keeps its name for at most one `lease` (README): a waiter with the default
// `timeout` must outlast it, as the Redis lock's default `waitMs` (at least `leaseMs` + 5 s) does,
// rather than fail with LockTimeoutError while the dead holder's lease still runs
describe('createSqliteLock behind a crashed holder with a lease longer than the default wait', () => {
	const { path, open } = lockFileEach();
	afterEach(() => {
		vi.useRealTimers();
	});

	it('waits, by default, until the lease runs out, then takes the name', async () => {
		await leaveKilledHolder(path(), 1, LEASE_MS);

		vi.useFakeTimers({
			toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
		});
		const lock = open({ lease: LEASE_MS });
		const outcome: { value?: unknown } = {};
		const waiting = lock('did:plc:crashed0', async () => 'taken').then(
			(value) => (outcome.value = value),
			(err: unknown) => (outcome.value = err),
		);
		// past the default wait, the dead holder's lease still runs: still waiting, not refused
		await vi.advanceTimersByTimeAsync(LOCK_WAIT_MS + 1_000);
		expect(outcome.value).not.toBeInstanceOf(LockTimeoutError);
		expect('value' in outcome).toBe(false);
		// once it has run out, the name is taken over
		await vi.advanceTimersByTimeAsync(LEASE_MS - LOCK_WAIT_MS + 1_000);
		await waiting;
		expect(outcome.value).toBe('taken');
	}, 30_000);
});
