import { LockTimeoutError, LockUnavailableError } from '@atcute/oauth-client';
import { MAX_TIMER_MS } from '@atcute-oauth/internal/timer-delay';
import { describe, expect, it } from 'vitest';

import { lockFileEach } from './internal/test-lock-file.ts';
import { createSqliteLock } from './sqlite-lock.ts';

describe('createSqliteLock while another connection holds the write lock', () => {
	const { open, raw } = lockFileEach();

	it('lets the process run while it waits, and gives up with LockTimeoutError while the write lock is still held (the default 5 s busyTimeout is not waited out)', async () => {
		const lock = open({ timeout: 200 });
		const other = raw();
		other.exec('BEGIN IMMEDIATE');
		// the rest of the process: each tick is a turn of the event loop the waiter did not block
		let ticks = 0;
		const ticker = setInterval(() => ticks++, 10);
		let ran = false;
		try {
			const error = await lock('did:plc:a', async () => {
				ran = true;
			}).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(LockTimeoutError);
			// the other connection's transaction is still open: the waiter gave up within its own
			// timeout rather than after SQLite's busy timeout ran out
			expect(other.inTransaction).toBe(true);
			expect(ticks).toBeGreaterThan(0);
			expect(ran).toBe(false);
		} finally {
			clearInterval(ticker);
			other.exec('ROLLBACK');
		}
	});

	it('gets the lock once the write lock is let go, and keeps the busy timeout of its connection for everything else', async () => {
		const database = raw();
		database.pragma('journal_mode = WAL');
		database.pragma('busy_timeout = 1234');
		const lock = createSqliteLock({ database: database.connection, timeout: 5_000 });
		const other = raw();
		other.exec('BEGIN IMMEDIATE');
		const acquired = lock('did:plc:a', async () => database.pragma('busy_timeout'));
		// a few attempts have failed busy
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(database.pragma('busy_timeout')).toBe(1234);
		other.exec('COMMIT');
		// the holder (and renewals, releases, the app's statements) see the connection's own again
		await expect(acquired).resolves.toBe(1234);
		expect(database.pragma('busy_timeout')).toBe(1234);
	});

	it('puts the busy timeout back when acquiring fails for good', async () => {
		const database = raw();
		database.pragma('busy_timeout = 4321');
		const lock = createSqliteLock({ database: database.connection, table: 'locks' });
		database.exec('DROP TABLE locks');
		database.exec('CREATE TABLE locks (id INTEGER PRIMARY KEY)');
		const error = await lock('did:plc:a', async () => {}).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect(database.pragma('busy_timeout')).toBe(4321);
	});
});

describe('createSqliteLock (audit fixes)', () => {
	const { path, open, raw } = lockFileEach();

	it('makes its table again when it was dropped while the lock ran, and acquires', async () => {
		const lock = open({ table: 'oauth_locks' });
		await lock('did:plc:a', async () => {});
		const other = raw();
		other.exec('DROP TABLE oauth_locks');
		await expect(lock('did:plc:a', async () => 'in')).resolves.toBe('in');
		// and a lock opened after the drop, from the meta row left behind
		other.exec('DROP TABLE oauth_locks');
		const reopened = open({ table: 'oauth_locks' });
		await expect(reopened('did:plc:a', async () => 'in again')).resolves.toBe('in again');
	});

	it('fails with LockUnavailableError, not reusing it, once a table that is not its own has taken the dropped name', async () => {
		const lock = open({ table: 'oauth_locks' });
		const other = raw();
		other.exec('DROP TABLE oauth_locks');
		other.exec('CREATE TABLE oauth_locks (id INTEGER PRIMARY KEY)');
		// SQLite's own words: the statement compiles against the new table, which has no such column
		const error = await lock('did:plc:a', async () => {}).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect(error).toMatchObject({ transient: false });
	});

	it('refuses a now that is not a function, naming it', () => {
		expect(() => createSqliteLock({ path: path(), now: 'x' as unknown as () => number })).toThrow(TypeError);
		expect(() => createSqliteLock({ path: path(), now: 'x' as unknown as () => number })).toThrow(
			/now must be a function/,
		);
	});

	it('refuses a lease whose renewal a timer cannot wait (every third of it), and a busyTimeout SQLite cannot hold', () => {
		expect(() => createSqliteLock({ path: path(), lease: 7e9 })).toThrow(TypeError);
		expect(() => createSqliteLock({ path: path(), lease: 3 * MAX_TIMER_MS + 3 })).toThrow(/lease/);
		expect(() => createSqliteLock({ path: path(), busyTimeout: 2 ** 31 })).toThrow(/busyTimeout/);
		// the longest lease a timer can renew is accepted (the lock is closed after the test)
		open({ lease: 3 * MAX_TIMER_MS });
	});
});
