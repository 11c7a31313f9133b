import { afterEach, describe, expect, it, vi } from 'vitest';

import { LockTimeoutError } from '../errors.ts';
import { LOCK_WAIT_MS } from '../lock.ts';
import type { SessionStore } from '../stored-types.ts';
import { MapStore } from '../test-utils/map-store.ts';
import { defaultLockFor } from './default-lock.ts';

/** what a waiter behind a holder of `lock` gets once `ms` have passed. */
const waiterAfter = async (lock: ReturnType<typeof defaultLockFor>, ms: number): Promise<unknown> => {
	let release!: () => void;
	const holder = lock('a', () => new Promise<void>((resolve) => (release = resolve)));
	const outcome: { value?: unknown } = {};
	const waiter = lock('a', async () => 'ran').then(
		(value) => (outcome.value = value),
		(err: unknown) => (outcome.value = err),
	);
	await vi.advanceTimersByTimeAsync(ms);
	const seen = 'value' in outcome ? outcome.value : 'still waiting';
	release();
	await holder;
	await waiter;
	return seen;
};

// a refresh made with a longer `timeout` takes longer: a sign-out waiting behind it on the default
// lock must not give up while it still runs, as LOCK_WAIT_MS is sized for the default timeout
describe('the default lock of a session store', () => {
	afterEach(() => {
		vi.useRealTimers();
	});

	it('waits LOCK_WAIT_MS for clients with the default timeout, then gives up', async () => {
		vi.useFakeTimers();
		const lock = defaultLockFor(new MapStore() as unknown as SessionStore, 10_000);
		expect(await waiterAfter(lock, LOCK_WAIT_MS - 1)).toBe('still waiting');
		expect(await waiterAfter(lock, LOCK_WAIT_MS + 1)).toBeInstanceOf(LockTimeoutError);
	});

	it('waits as long as the refresh of the slowest client on the store can take', async () => {
		vi.useFakeTimers();
		const store = new MapStore() as unknown as SessionStore;
		defaultLockFor(store, 10_000);
		// a second client on the same store, with requests three times as long
		const lock = defaultLockFor(store, 30_000);
		expect(lock).toBe(defaultLockFor(store, 10_000));
		expect(await waiterAfter(lock, 3 * LOCK_WAIT_MS - 1)).toBe('still waiting');
		expect(await waiterAfter(lock, 3 * LOCK_WAIT_MS + 1)).toBeInstanceOf(LockTimeoutError);
	});
});
