import { LOCK_WAIT_MS, LockTimeoutError, LockUnavailableError } from '@atcute/oauth-client';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { createPostgresLock } from './create-postgres-lock.ts';
import { lockKey } from './internal/lock-key.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

/** a heartbeat whose default silentHolderMs (3 heartbeats) is longer than the default wait. */
const HEARTBEAT_MS = 40_000;
const SILENT_HOLDER_MS = 3 * HEARTBEAT_MS;
/** a retry delay past any wait here: a waiter tries once, sleeps out its wait, and tries once more. */
const ONE_RETRY_MS = 1_000_000;

// a holder whose host vanished keeps the lock until the server ends its silent session, up to
// silentHolderMs (README): a waiter with the default `waitMs` must outlast it, as the Redis lock's
// (at least `leaseMs` + 5 s) and the SQLite lock's default waits do, rather than fail with
// LockTimeoutError while the server is about to free the lock
describe('createPostgresLock behind a silent holder with a silentHolderMs longer than the default wait', () => {
	let database: TestDatabase;
	let pool: pg.Pool;
	let holder: pg.Client;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'lock_long_heartbeat');
		// its one connection stays open while the clock is advanced (no idle timeout closes it)
		pool = testPool(database.url, { max: 1, idleTimeoutMillis: 0 });
		holder = new pg.Client({ connectionString: database.url });
		holder.on('error', () => {});
		await holder.connect();
	});
	afterEach(() => {
		vi.useRealTimers();
	});
	afterAll(async () => {
		await holder?.end();
		await pool?.end();
		await database?.drop();
	});

	it('waits, by default, past silentHolderMs, then takes the lock the server freed', async () => {
		const prefix = uniqueName('long_heartbeat');
		// the silent holder's session holds the lock (here the test ends it, as the server would)
		await holder.query('SELECT pg_advisory_lock($1::bigint)', [lockKey(`${prefix}did:plc:a`)]);
		// the waiter's connection is opened before the clock is faked
		await pool.query('SELECT 1');

		vi.useFakeTimers({
			toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'],
		});
		const lock = createPostgresLock({
			pool,
			prefix,
			heartbeatMs: HEARTBEAT_MS,
			retryDelay: ONE_RETRY_MS,
			maxRetryDelay: ONE_RETRY_MS,
		});
		const outcome: { value?: unknown } = {};
		const tried = new Promise((resolve) => pool.once('release', resolve));
		const waiting = lock('did:plc:a', async () => 'taken').then(
			(value) => (outcome.value = value),
			(err: unknown) => (outcome.value = err),
		);
		// its first attempt found the lock busy, and it sleeps
		await tried;
		// past the default wait, just short of silentHolderMs + 5 s: the server may free the lock any
		// moment now. a waiter that gave up (its next attempt, or that attempt's own deadline) has
		// failed by now: still waiting, not refused
		await vi.advanceTimersByTimeAsync(SILENT_HOLDER_MS + 4_000);
		expect(outcome.value).not.toBeInstanceOf(LockTimeoutError);
		expect(outcome.value).not.toBeInstanceOf(LockUnavailableError);
		expect('value' in outcome).toBe(false);
		expect(SILENT_HOLDER_MS).toBeGreaterThan(LOCK_WAIT_MS);

		// the server ends the silent session, which frees the lock: the waiter's next attempt, once
		// its sleep is over (at silentHolderMs + 5 s), takes it
		await holder.query('SELECT pg_advisory_unlock_all()');
		await vi.advanceTimersByTimeAsync(1_000);
		await waiting;
		expect(outcome.value).toBe('taken');
	}, 30_000);
});
