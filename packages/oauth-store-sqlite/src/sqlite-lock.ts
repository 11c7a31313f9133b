import {
	LOCK_WAIT_MS,
	type LockFunction,
	LockTimeoutError,
	LockUnavailableError,
} from '@atcute/oauth-client';
import { watchAborted } from '@atcute-oauth/internal/hold-signal';
import { trackHolding, warnLeaseLost } from '@atcute-oauth/internal/lease-loss';
import { hasLoneSurrogate } from '@atcute-oauth/internal/lone-surrogate';
import { isTimerDelay, MAX_TIMER_MS } from '@atcute-oauth/internal/timer-delay';

import {
	type LeaseLostEvent,
	type LeaseLostReason,
	StoreSchemaError,
	StoreUnavailableError,
} from './errors.ts';
import { type Connection, closeWhenCollected, connect } from './internal/connection.ts';
import { FILE_REPLACED_REASON } from './internal/file-identity.ts';
import { ForwardSteps } from './internal/forward-steps.ts';
import { quoteTable } from './internal/identifier.ts';
import { ensureSchema, type TableSchema } from './internal/schema.ts';
import { isBusy, isMissingTable, messageOf } from './internal/sqlite-code.ts';
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.ts';

/** options for `createSqliteLock()`: give `database` or `path`. */
export interface SqliteLockOptions {
	/** an open connection (better-sqlite3 `Database`, node:sqlite `DatabaseSync`); never closed by the lock. */
	database?: SqliteDatabase | undefined;
	/** a file to open (created if missing, switched to WAL); `close()` closes it. */
	path?: string | undefined;
	/** the table of leases, checked (and created if missing) when the lock is made; default `oauth_locks`. */
	table?: string | undefined;
	/**
	 * how long to wait for a lock, in milliseconds, before failing with `LockTimeoutError`;
	 * default `LOCK_WAIT_MS` of `@atcute/oauth-client` (90 000), longer than a refresh takes, or
	 * `lease` + 5000 when that is longer, so a waiter outlasts a crashed holder's lease.
	 */
	timeout?: number | undefined;
	/**
	 * how long a lease lasts, in milliseconds, renewed every third of it while the holder runs;
	 * default 30 000. a holder that dies without releasing (a crash) frees the name within this.
	 */
	lease?: number | undefined;
	/** how long a statement waits for another process's write, in milliseconds; default 5000. */
	busyTimeout?: number | undefined;
	/** as for `SqliteStore`: milliseconds between background WAL checkpoints; default 100, `0` inline. */
	checkpointInterval?: number | undefined;
	/**
	 * as for `SqliteStore`: whether a file opened from `path` overwrites released leases (whose
	 * names hold the account's DID) with zeros; default `true`.
	 */
	secureDelete?: boolean | undefined;
	/**
	 * the clock for leases, in milliseconds since the epoch, shared by every process; default
	 * `Date.now`. watched against `performance.now()`: a jump forward of a second or more between
	 * two readings (a test's clock advanced by hand included) counts as a clock step, left out when
	 * leases are judged run out for one `lease` after it.
	 */
	now?: (() => number) | undefined;
	/**
	 * called, while the holder still runs, when it finds its lease lost: taken over by another
	 * holder after it ran out, or not renewed for a whole lease. the holder is not stopped and its
	 * result is returned all the same; default: a process warning (`LeaseLostWarning`).
	 */
	onLeaseLost?: ((event: LeaseLostEvent) => void) | undefined;
}

/** a `LockFunction` that can close the connection it opened. */
export interface SqliteLock extends LockFunction {
	/**
	 * refuses new locks (`LockUnavailableError`, not transient), and closes the connection if the
	 * lock opened it (`path`; a given `database` stays open) once the holders still running have
	 * released their names: until then their leases are renewed, and released when they end.
	 */
	close(): void;
}

/** the format of lock tables this version reads and writes. */
const LOCK_SCHEMA_VERSION = 1;
/** how much longer than a lease a waiter waits by default (see `timeout`), in milliseconds. */
const LEASE_WAIT_MARGIN_MS = 5_000;
/** the first pause between attempts, in milliseconds; it grows by half each time, up to the cap. */
const FIRST_BACKOFF_MS = 5;
const MAX_BACKOFF_MS = 50;
/**
 * the longest an attempt to acquire waits for another connection's write lock, in milliseconds.
 * the statement is synchronous: with the connection's own busy timeout (5 s by default) a waiter
 * would block its whole process for that long, whatever its `timeout`. a short wait here, and the
 * waiting loop's own pauses in between, let the rest of the process run.
 */
const ACQUIRE_BUSY_TIMEOUT_MS = 5;
/**
 * every this many releases, the lock deletes up to SWEEP_LIMIT rows of leases that ran out at
 * least a lease (or SWEEP_GRACE_MIN_MS) ago: a holder that crashed leaves its rows, and a name
 * nobody locks again would keep its row for good.
 */
const SWEEP_EVERY = 64;
/**
 * the least time, in milliseconds, a sweep leaves a lease's row after it ran out, whatever the
 * sweeping lock's own `lease`: a row does not record its holder's lease, and a process with a
 * short one must not delete the row of a stalled holder with a longer one (up to this) that the
 * holder's next renewal would keep. twice the default lease; a crashed holder's row only stays a
 * little longer.
 */
const SWEEP_GRACE_MIN_MS = 60_000;
/** the most rows one sweep deletes: a bounded write (well under a millisecond), on the caller's thread. */
const SWEEP_LIMIT = 32;
/** the longest lease: it is renewed on a timer every third of it, and a timer waits at most MAX_TIMER_MS. */
const MAX_LEASE_MS = 3 * MAX_TIMER_MS;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const positive = (name: string, value: number | undefined, fallback: number): number => {
	if (value === undefined) return fallback;
	if (!(Number.isFinite(value) && value > 0)) {
		throw new TypeError(`${name} must be a positive number of milliseconds, got ${value}`);
	}
	return value;
};

interface Statements {
	acquire: SqliteStatement;
	renew: SqliteStatement;
	release: SqliteStatement;
	/** deletes a bounded batch of leases that ran out before a given time. */
	sweep: SqliteStatement;
	/** reads the connection's busy timeout. */
	busyTimeout: SqliteStatement;
}

/**
 * a lock shared by every process that opens the same SQLite file on one host: a lease row per
 * name with a random owner token. acquiring is one upsert that only takes a free or expired
 * lease; the holder renews its lease while it runs; release deletes the row only if the token is
 * still its own. waiters poll with a growing, jittered pause, for at most `timeout`.
 * not for network file systems, whose file locks SQLite cannot trust.
 */
export const createSqliteLock = (options: SqliteLockOptions): SqliteLock => {
	// left out or null, the destructuring below would fail with a message naming nothing
	if (typeof options !== 'object' || options === null) {
		throw new TypeError(
			`createSqliteLock options must be an object ({ path } or { database }), got ${options === null ? 'null' : typeof options}`,
		);
	}
	const { table = 'oauth_locks', now = Date.now, onLeaseLost = warnLeaseLost } = options;
	if (typeof onLeaseLost !== 'function') throw new TypeError('onLeaseLost must be a function');
	if (typeof now !== 'function') {
		throw new TypeError(`now must be a function returning milliseconds since the epoch, got ${typeof now}`);
	}
	const quoted = quoteTable('table', table);
	const lease = positive('lease', options.lease, 30_000);
	// by default a waiter outlasts a crashed holder's lease (the longest it keeps the name): with a
	// lease longer than LOCK_WAIT_MS it would otherwise fail with LockTimeoutError while the dead
	// holder's lease still runs, and the name be free moments later (as the Redis lock's `waitMs`)
	const timeout = positive('timeout', options.timeout, Math.max(LOCK_WAIT_MS, lease + LEASE_WAIT_MARGIN_MS));
	// renewed on a timer every third of it, and a timer waits at least 1 ms: a shorter third is
	// renewed only every millisecond, and a lease of 1 ms (or a fraction) runs out between two
	// renewals of a holder that is not stalled at all, letting a second holder in
	if (lease < 3) {
		throw new TypeError(
			`lease must be at least 3 milliseconds (it is renewed every third of it, on a timer that waits at least 1 ms), got ${lease}`,
		);
	}
	if (!isTimerDelay(lease / 3)) {
		throw new TypeError(
			`lease must be at most ${MAX_LEASE_MS} milliseconds (it is renewed every third of it, on a timer that waits at most ${MAX_TIMER_MS}), got ${lease}`,
		);
	}

	const schema: TableSchema = {
		name: table,
		kind: 'lock',
		version: LOCK_SCHEMA_VERSION,
		create: [
			`CREATE TABLE ${quoted} (name TEXT PRIMARY KEY NOT NULL, owner TEXT NOT NULL, expires_at INTEGER NOT NULL) STRICT`,
		],
	};
	let statements: Statements | undefined;
	const connection: Connection = connect(options, (database) => {
		ensureSchema(database, schema);
		statements = {
			// one statement under SQLite's write lock: inserts a free name, or takes over a lease
			// that has expired; a live lease is left alone and nothing changes
			acquire: database.prepare(
				`INSERT INTO ${quoted} (name, owner, expires_at) VALUES (?, ?, ?)
				 ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
				 WHERE ${quoted}.expires_at <= ?`,
			),
			renew: database.prepare(`UPDATE ${quoted} SET expires_at = ? WHERE name = ? AND owner = ?`),
			// compare-and-delete: a holder whose lease ran out must not free its successor's
			release: database.prepare(`DELETE FROM ${quoted} WHERE name = ? AND owner = ?`),
			// through rowid: not every SQLite build has DELETE … LIMIT. no index on expires_at (the
			// table holds little more than the leases in use), so this reads the table once at most
			sweep: database.prepare(
				`DELETE FROM ${quoted} WHERE rowid IN (SELECT rowid FROM ${quoted} WHERE expires_at <= ? LIMIT ?)`,
			),
			busyTimeout: database.prepare('PRAGMA busy_timeout'),
		};
	});
	const { database } = connection;
	const { acquire, renew, release, sweep, busyTimeout } = statements!;

	/** runs `fn` with the connection waiting at most ACQUIRE_BUSY_TIMEOUT_MS for the write lock; its own busy timeout is put back after. */
	const withShortBusyTimeout = <T>(fn: () => T): T => {
		// read each time: a shared connection's may have been changed by the app
		const row = busyTimeout.get() as Record<string, unknown> | undefined | null;
		const own = Number(row == null ? 0 : Object.values(row)[0]) || 0;
		database.exec(`PRAGMA busy_timeout = ${Math.min(own, ACQUIRE_BUSY_TIMEOUT_MS)}`);
		try {
			return fn();
		} finally {
			try {
				// renewals and releases wait the full busy timeout again (as do stores sharing it)
				database.exec(`PRAGMA busy_timeout = ${own}`);
			} catch {
				// fails only on a closed connection, where nothing waits any more; the statement's own
				// result or error is the one to report
			}
		}
	};

	/** one upsert, waiting at most ACQUIRE_BUSY_TIMEOUT_MS for the write lock. */
	const runAcquire = (name: string, owner: string, time: { wall: number; steady: number }): boolean =>
		withShortBusyTimeout(
			() => Number(acquire.run(name, owner, Math.ceil(time.wall + lease), time.steady).changes) === 1,
		);

	// a lease is judged run out on the wall clock less its steps forward: a step past a live lease's
	// expiry must not let a second holder in (nor sweep its row) before its holder renews it
	const steps = new ForwardSteps(now, lease);
	let releasesSinceSweep = 0;
	/** how long past its expiry a lease's row is left to a holder that stalled, in milliseconds. */
	const sweepGrace = Math.max(lease, SWEEP_GRACE_MIN_MS);
	/**
	 * every SWEEP_EVERY releases, deletes up to SWEEP_LIMIT leases that ran out `sweepGrace` ago or
	 * more, by the same clock and comparison as acquiring. never a live one: any lease past its
	 * expiry is free for every process to take over, so deleting it frees nothing that was held.
	 * the grace spares a holder that stalled just past its own lease (its renewal still finds the
	 * row, and keeps it) a report that its lease was taken.
	 */
	const maybeSweep = (): void => {
		if (++releasesSinceSweep < SWEEP_EVERY) return;
		releasesSinceSweep = 0;
		try {
			withShortBusyTimeout(() => sweep.run(steps.read().steady - sweepGrace, SWEEP_LIMIT));
		} catch {
			// housekeeping only (busy, say): the next sweep tries again
		}
	};

	/** the holders running now; `close()` closes the connection once the last one has released. */
	let holders = 0;
	let closing = false;

	const tryAcquire = (name: string, owner: string): boolean => {
		if (closing) {
			// closed, though its connection stays open for the holders still running: nothing new
			const failure = new StoreUnavailableError('lock', 'the lock was closed');
			throw new LockUnavailableError(name, `lock "${name}" could not be acquired: ${failure.message}`, {
				cause: failure,
				transient: false,
			});
		}
		if (connection.replaced()) {
			// why: a process started since opens the file now at the path, whose leases are not these:
			// both would hold the name and spend one refresh token twice. refused before the holder
			// runs, and for good (only a new connection reaches the new file)
			const failure = new StoreUnavailableError('lock', FILE_REPLACED_REASON);
			throw new LockUnavailableError(name, `lock "${name}" could not be acquired: ${failure.message}`, {
				cause: failure,
				transient: false,
			});
		}
		const time = steps.read();
		try {
			try {
				return runAcquire(name, owner, time);
			} catch (err) {
				if (!isMissingTable(err)) throw err;
				// the table was dropped while this lock ran: made again (as on first use), and the
				// upsert, which did nothing, run once more
				ensureSchema(database, schema);
				return runAcquire(name, owner, time);
			}
		} catch (err) {
			// the dropped table's name is now another's
			if (err instanceof StoreSchemaError) {
				throw new LockUnavailableError(name, `lock "${name}" could not be acquired: ${err.message}`, {
					cause: err,
					transient: false,
				});
			}
			// another process is writing: the same as a held lock, wait and try again
			if (isBusy(err)) return false;
			// the class every lock adapter throws, which callers of the client branch on; SQLite's
			// own failure (operation, code) is its cause, and says whether to try again: a closed
			// connection, a read-only or corrupt file stays so, and must not be retried for ever
			const failure = new StoreUnavailableError('lock', messageOf(err), { cause: err });
			throw new LockUnavailableError(name, `lock "${name}" could not be acquired: ${failure.message}`, {
				cause: failure,
				transient: failure.transient,
			});
		}
	};

	const lock = async <T>(name: string, fn: (lost?: AbortSignal) => Promise<T>): Promise<T> => {
		if (typeof name !== 'string' || name === '') throw new TypeError('lock name must be a non-empty string');
		// UTF-8 has no lone surrogate: node:sqlite stores U+FFFD for it (every such name one row),
		// better-sqlite3 bytes of its own, so processes on the two drivers would both hold the name
		if (hasLoneSurrogate(name)) {
			throw new TypeError('lock name must not hold a lone UTF-16 surrogate (half a surrogate pair)');
		}
		if (typeof fn !== 'function') throw new TypeError('fn must be a function');
		const owner = crypto.randomUUID();
		const deadline = performance.now() + timeout;
		for (let backoff = FIRST_BACKOFF_MS; !tryAcquire(name, owner); ) {
			const remaining = deadline - performance.now();
			if (remaining <= 0) throw new LockTimeoutError(name, timeout);
			// jittered, so waiters in several processes do not retry in step
			await sleep(Math.min(remaining, backoff * (0.5 + Math.random() / 2)));
			backoff = Math.min(backoff * 1.5, MAX_BACKOFF_MS);
		}

		holders++;
		// reporting a loss does not stop the renewal: an unconfirmed lease may still be ours, and
		// must not run out under the holder once the database is back (stopped below when it is not)
		const holding = trackHolding<LeaseLostReason>(name, onLeaseLost, () => {});
		// the lease surely lasts until `lease` after the last write that set it was started
		let confirmedAt = performance.now();

		/** whether `renewNow` runs: the loss it reports reads the signal, whose watcher must not renew again. */
		let renewing = false;
		/** renews the lease now (synchronous, as every statement here), or finds it lost. */
		const renewNow = (): void => {
			// a renewal that failed (busy for its whole busy timeout) and reports the loss reads the
			// signal (trackHolding's lose does): renewing again from there would block as long again
			if (renewing) return;
			renewing = true;
			const sentAt = performance.now();
			try {
				if (Number(renew.run(Math.ceil(steps.read().wall + lease), name, owner).changes) === 0) {
					// the row is no longer ours: the lease ran out (the process stalled longer than
					// it) and another holder took the name over; there is nothing left to renew
					clearInterval(renewal);
					holding.lose('taken');
				} else {
					confirmedAt = sentAt;
				}
			} catch {
				// busy or unreachable: report it once the lease may have run out (once per holding),
				// and go on trying: a renewal that gets through while the row is ours keeps it
				if (performance.now() - confirmedAt >= lease) holding.lose('unconfirmed');
			} finally {
				renewing = false;
			}
		};
		// keep the lease while the holder runs, however long: a refresh must not lose it midway
		const renewal = setInterval(renewNow, lease / 3);
		// never keeps the process alive on its own
		renewal.unref?.();
		let running = true;
		// an event loop that stalled past the lease (a long GC pause, a frozen VM or process) resumes
		// the holder from an I/O callback (a fetch's answer) before the overdue renewal's timer runs:
		// its check of the signal, right before it sends a refresh token, would find it not aborted
		// while another process holds the name. read then, a lease past its time is asked about now
		watchAborted(holding.signal, () => {
			if (running && performance.now() - confirmedAt >= lease) renewNow();
		});

		try {
			return await fn(holding.signal);
		} finally {
			running = false;
			clearInterval(renewal);
			try {
				// compare-and-delete found nothing of ours: the loss shows only now
				if (Number(release.run(name, owner).changes) === 0) holding.lose('taken');
			} catch {
				// the lease expires on its own; the holder's result or error matters more
			} finally {
				maybeSweep();
				holders--;
				if (closing && holders === 0) connection.close();
			}
		}
	};

	// closed once collected: a lock dropped unclosed (a hot reload) kept its connection for good
	closeWhenCollected(lock, connection);
	return Object.assign(lock, {
		/**
		 * refuses new locks at once, and closes the connection once the holders still running have
		 * released theirs: closed under them, their leases could be neither renewed (another process
		 * could take a name in use) nor released (others would wait for them to run out).
		 */
		close: (): void => {
			closing = true;
			if (holders === 0) connection.close();
		},
	});
};
