import { isTimerDelay, MAX_TIMER_MS } from '@atcute-oauth/internal/timer-delay';

import { StoreSchemaError, StoreUnavailableError } from '../errors.ts';
import type { SqliteDatabase } from '../sqlite-database.ts';
import { checkDirectoryOf } from './check-directory.ts';
import { checkpointInBackground, DEFAULT_CHECKPOINT_INTERVAL_MS } from './checkpointer.ts';
import { watchFileIdentity } from './file-identity.ts';
import { type DriverLoaders, defaultLoaders, selectDriver } from './load-driver.ts';
import { createPrivateFile } from './private-file.ts';
import { messageOf } from './sqlite-code.ts';

/** how a store or lock reaches its database. */
export interface ConnectionOptions {
	database?: SqliteDatabase | undefined;
	path?: string | undefined;
	busyTimeout?: number | undefined;
	mmapSize?: number | undefined;
	checkpointInterval?: number | undefined;
	secureDelete?: boolean | undefined;
}

/** a connection, and whether the store or lock opened it (and so closes it). */
export interface Connection {
	database: SqliteDatabase;
	owned: boolean;
	/**
	 * milliseconds between the WAL checkpoints a worker thread runs for it (see checkpointer.ts);
	 * 0 when none does (`checkpointInterval: 0`, a given `database`, node:sqlite, no worker threads).
	 */
	backgroundCheckpointInterval: number;
	/**
	 * whether the file opened from `path` was deleted or replaced since (see file-identity.ts);
	 * always false for a given `database`, whose file the app opened.
	 */
	replaced: () => boolean;
	/** stops its background checkpoints and closes it, if it was opened here. */
	close: () => void;
}

/**
 * how long a statement waits for another connection's write lock before SQLITE_BUSY, in
 * milliseconds: far longer than any write here holds it, so contention waits instead of failing.
 */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** the page size of files the package creates, in bytes (see `connect`). */
export const PAGE_SIZE = 16_384;

/**
 * how much of a file the package opens is memory-mapped, in bytes: SQLite's own compile-time
 * ceiling (just under 2 GiB). reads then come straight from the OS page cache instead of a copy
 * through `read()`, which keeps `get` flat as the file outgrows SQLite's page cache.
 */
export const DEFAULT_MMAP_SIZE = 0x7fff0000;

/** a positive integer option, or its default; a TypeError names the option otherwise. */
export const positiveInteger = (name: string, value: number | undefined, fallback: number): number => {
	if (value === undefined) return fallback;
	if (!Number.isSafeInteger(value) || value <= 0) {
		throw new TypeError(`${name} must be a positive integer, got ${value}`);
	}
	return value;
};

/** the value `PRAGMA <pragma>` answers (its row's one column), an integer always as a number. */
const pragmaValue = (database: SqliteDatabase, pragma: string): unknown => {
	const row = database.prepare(`PRAGMA ${pragma}`).get() as Record<string, unknown> | undefined | null;
	const value = row == null ? undefined : Object.values(row)[0];
	// a connection that reads integers as BigInt (better-sqlite3's defaultSafeIntegers, node:sqlite's
	// readBigInts) answers 0n where others answer 0
	return typeof value === 'bigint' ? Number(value) : value;
};

/** background checkpoints, or SQLite's own on this thread when no worker thread can start here. */
const startBackgroundCheckpoints = (
	database: SqliteDatabase,
	options: Parameters<typeof checkpointInBackground>[1],
): (() => void) | undefined => {
	try {
		return checkpointInBackground(database, options);
	} catch {
		// a runtime without worker threads: checkpoints stay inline, as SQLite runs them by default
		return undefined;
	}
};

/**
 * runs what a store or lock collected unclosed left to release (see `closeWhenCollected`). made on
 * first use: a runtime without `FinalizationRegistry` (workerd on an older
 * compatibility date) must still load the module (a bundle that holds it unused), and closes nothing then.
 */
let collected: FinalizationRegistry<() => void> | undefined;

const registry = (): FinalizationRegistry<() => void> | undefined => {
	if (collected === undefined && typeof FinalizationRegistry === 'function') {
		collected = new FinalizationRegistry<() => void>((release) => {
			try {
				release();
			} catch {
				// nothing to report it to: the store or lock is gone
			}
		});
	}
	return collected;
};

/**
 * closes `connection` (and releases `also`) once `owner`, the store or lock that opened it, has been
 * garbage-collected without `close()`. why: a dev server's hot reload or a store made per request
 * drops stores unclosed, and each left its connection open for the life of the process, and the
 * file's checkpoint worker (which holds the connections it serves) running: one more worker
 * thread per reload of the package. `close()` stays the way to release them at once. the release
 * is made here, apart from the owner's code, so that it cannot hold the owner alive. a given
 * `database` is never closed.
 */
export const closeWhenCollected = (
	owner: object,
	connection: Connection,
	also?: { release(): void } | undefined,
): void => {
	registry()?.register(owner, () => {
		also?.release();
		connection.close();
	});
};

/**
 * opens `path` (WAL, busy timeout) or adopts `database`, then runs `setup` on it (the schema).
 * failures become `StoreUnavailableError` (`StoreSchemaError` passes as it is), and a connection
 * opened here is closed again.
 */
export const connect = (
	options: ConnectionOptions,
	setup: (database: SqliteDatabase) => void,
	loaders: DriverLoaders = defaultLoaders,
): Connection => {
	const { database, path } = options;
	if ((database === undefined) === (path === undefined)) {
		throw new TypeError(
			`give exactly one of database (an open connection) and path (a file), got ${database === undefined ? 'neither' : 'both'}`,
		);
	}
	if (path !== undefined && (typeof path !== 'string' || path === '')) {
		throw new TypeError(`path must be a file path, got ${JSON.stringify(path)}`);
	}
	if (database !== undefined && typeof database?.prepare !== 'function') {
		throw new TypeError('database must be a better-sqlite3 Database or a node:sqlite DatabaseSync');
	}
	const { busyTimeout = DEFAULT_BUSY_TIMEOUT_MS } = options;
	// SQLite keeps it in a C int: from 2^31 on it waits not at all. (the same bound as a timer's)
	if (!(Number.isSafeInteger(busyTimeout) && isTimerDelay(busyTimeout))) {
		throw new TypeError(
			`busyTimeout must be a positive integer number of milliseconds up to ${MAX_TIMER_MS}, got ${busyTimeout}`,
		);
	}
	const {
		mmapSize = DEFAULT_MMAP_SIZE,
		checkpointInterval = DEFAULT_CHECKPOINT_INTERVAL_MS,
		secureDelete = true,
	} = options;
	if (typeof secureDelete !== 'boolean') {
		throw new TypeError(`secureDelete must be a boolean, got ${typeof secureDelete}`);
	}
	if (!Number.isSafeInteger(mmapSize) || mmapSize < 0) {
		throw new TypeError(`mmapSize must be a non-negative integer number of bytes, got ${mmapSize}`);
	}
	// the worker's timer: past MAX_TIMER_MS it would fire every millisecond
	if (
		!Number.isSafeInteger(checkpointInterval) ||
		checkpointInterval < 0 ||
		checkpointInterval > MAX_TIMER_MS
	) {
		throw new TypeError(
			`checkpointInterval must be a non-negative integer number of milliseconds up to ${MAX_TIMER_MS}, got ${checkpointInterval}`,
		);
	}

	let opened: SqliteDatabase | undefined;
	let release: (() => void) | undefined;
	let replaced: (() => boolean) | undefined;
	try {
		if (path !== undefined) {
			const driver = selectDriver(loaders);
			// the same answer on every driver: a path that cannot work is not transient
			checkDirectoryOf(path);
			// why: it holds tokens and DPoP private keys; SQLite would make it (and its -wal and
			// -shm) world-readable under the usual umask
			createPrivateFile(path);
			opened = driver.open(path);
			// the file as opened: writes to it once deleted or replaced would be lost for good
			replaced = watchFileIdentity(path);
			opened.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
			// a session row is about 2.3 kB: on 4 kB pages each takes a page of its own, on 16 kB
			// pages seven share one (the file shrinks by 40 % and lookups touch fewer pages).
			// only a new, empty file takes it; an existing file keeps its page size
			opened.exec(`PRAGMA page_size = ${PAGE_SIZE}`);
			// readers never block the writer and the writer never blocks readers: what many
			// processes on one file need. persistent in the file; a no-op once set
			opened.exec('PRAGMA journal_mode = WAL');
			// the one durability setting, on every connection the package opens: in WAL mode a commit
			// survives the process crashing; a power cut or OS crash may lose the last commits (never
			// corrupt the file). FULL would fsync on every write, on the caller's thread
			opened.exec('PRAGMA synchronous = NORMAL');
			// per connection, not stored in the file; 0 turns it off. SQLite caps it at its
			// compile-time limit
			opened.exec(`PRAGMA mmap_size = ${mmapSize}`);
			// why: SQLite leaves a deleted row's bytes in its page's free space, and a freed page as it
			// was, so a signed-out session's tokens and DPoP private key (and a spent state's PKCE
			// verifier) would stay readable in the file. ON overwrites them with zeros as they are
			// deleted or replaced; per connection, so every connection that writes needs it
			opened.exec(`PRAGMA secure_delete = ${secureDelete ? 'ON' : 'OFF'}`);
			if (checkpointInterval > 0 && driver.module !== undefined) {
				release = startBackgroundCheckpoints(opened, {
					path,
					driver: driver.module,
					interval: checkpointInterval,
					busyTimeout,
				});
			}
		} else if (options.busyTimeout !== undefined || pragmaValue(database!, 'busy_timeout') === 0) {
			// without a busy timeout a second process makes every write fail with SQLITE_BUSY
			database!.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
		}
		const connection = opened ?? database!;
		setup(connection);
		let closed = false;
		return {
			database: connection,
			owned: opened !== undefined,
			backgroundCheckpointInterval: release === undefined ? 0 : checkpointInterval,
			replaced: replaced ?? (() => false),
			close: () => {
				// once: node:sqlite and bun:sqlite throw when a closed connection is closed again, and
				// an app may well close a store from two shutdown hooks
				if (closed) return;
				closed = true;
				// the worker first: it must not outlive the connections it serves
				release?.();
				opened?.close();
			},
		};
	} catch (err) {
		try {
			release?.();
			opened?.close();
		} catch {
			// already failing: the first error is the one to report
		}
		if (err instanceof StoreSchemaError || err instanceof StoreUnavailableError) throw err;
		throw new StoreUnavailableError('open', messageOf(err), { cause: err });
	}
};
