import { LockUnavailableError } from '@atcute/oauth-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPostgresLock } from './create-postgres-lock.ts';

import type { PgPool } from './queryable.ts';

/** what the fake pool's nth connection, or the nth lock query, does: answer after `after` ms. */
interface Step<T> {
	after: number;
	value: T;
}

/**
 * a pool whose connections come, and whose lock queries answer, when the test says, on the fake
 * clock: a PostgreSQL that slows down at a chosen moment, which a real server cannot be made to
 * do to the millisecond. `released` records how each connection went back (true: closed).
 */
const scriptedPool = (connections: number[], answers: Step<{ acquired: 'true' | 'false' }>[]) => {
	const released: boolean[] = [];
	const later = <T>(ms: number, value: T): Promise<T> =>
		new Promise((resolve) => setTimeout(() => resolve(value), ms));
	let tries = 0;
	const client = {
		on: () => {},
		off: () => {},
		release: (destroy?: boolean) => void released.push(destroy === true),
		query: ({ text }: { text: string }) => {
			if (!text.includes('pg_try_advisory_lock')) return Promise.resolve({ rows: [{ released: 'true' }] });
			const step = answers[tries++]!;
			return later(step.after, { rows: [step.value] });
		},
	};
	let connects = 0;
	const pool = { connect: () => later(connections[connects++]!, client) };
	return { pool: pool as unknown as PgPool, released };
};

describe('createPostgresLock deadlines', () => {
	beforeEach(() => {
		// performance.now() included: the lock measures its wait with it
		vi.useFakeTimers();
	});
	afterEach(() => {
		vi.useRealTimers();
	});

	const settle = async <T>(pending: Promise<T>): Promise<T> => {
		await vi.advanceTimersByTimeAsync(30_000);
		return pending;
	};

	it('gives an attempt made while waiting one deadline for its connection and its query together', async () => {
		const { pool, released } = scriptedPool(
			// the second connection comes 900 ms into its attempt, near the end of the 1 s grace
			[0, 900],
			[
				{ after: 0, value: { acquired: 'false' } },
				// its answer would come 500 ms later: past the attempt's deadline, within a fresh 1 s
				{ after: 500, value: { acquired: 'true' } },
			],
		);
		const lock = createPostgresLock({ pool, waitMs: 300, timeout: 20_000, retryDelay: 10 });
		let ran = false;
		const error = await settle(
			lock('a', async () => {
				ran = true;
			}).catch((err: unknown) => err),
		);
		expect(error).toBeInstanceOf(LockUnavailableError);
		// the attempt's whole budget: waitMs was nearly spent, so the 1 s grace, not the 20 s timeout
		expect((error as Error).message).toBe(
			'lock "a" could not be acquired: PostgreSQL did not answer within 1000 ms',
		);
		expect(ran).toBe(false);
		// the first connection went back; the second was closed: its lock may yet have been taken
		expect(released).toEqual([false, true]);
	});

	it('never gives an attempt made while waiting more than timeout', async () => {
		const { pool } = scriptedPool(
			[0, 0],
			[
				{ after: 0, value: { acquired: 'false' } },
				{ after: 60_000, value: { acquired: 'true' } },
			],
		);
		const lock = createPostgresLock({ pool, waitMs: 20_000, timeout: 2_000, retryDelay: 10 });
		const error = await settle(lock('a', async () => 'ran').catch((err: unknown) => err));
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect((error as Error).message).toMatch(/did not answer within 2000 ms$/);
	});

	it.each([0, 50])(
		'gives the first attempt (waitMs %i) timeout for its connection and again for its query',
		async (waitMs) => {
			// a slow first connection (3 s) then a slow answer (3 s): each within the 5 s timeout
			const { pool, released } = scriptedPool([3_000], [{ after: 3_000, value: { acquired: 'true' } }]);
			const lock = createPostgresLock({ pool, waitMs, timeout: 5_000 });
			expect(await settle(lock('a', async () => 'ran').catch((err: unknown) => err))).toBe('ran');
			expect(released).toEqual([false]);
		},
	);
});
