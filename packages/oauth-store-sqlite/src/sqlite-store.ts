import { AsyncResource } from 'node:async_hooks';

import type { Store, StoreSetOptions } from '@atcute/oauth-client';
import { expiresAtOf } from '@atcute-oauth/internal/expires-at';
import { hasLoneSurrogate } from '@atcute-oauth/internal/lone-surrogate';
import { MAX_TIMER_MS } from '@atcute-oauth/internal/timer-delay';

import { type SqliteOperation, StoreSchemaError, StoreUnavailableError } from './errors.ts';
import {
	type Connection,
	type ConnectionOptions,
	closeWhenCollected,
	connect,
	positiveInteger,
} from './internal/connection.ts';
import { FILE_REPLACED_REASON } from './internal/file-identity.ts';
import { quoteTable } from './internal/identifier.ts';
import { acquirePurgePacer, type PurgePacer, purgePause } from './internal/purge-pacing.ts';
import { ensureSchema, type TableSchema } from './internal/schema.ts';
import { isMissingTable, messageOf } from './internal/sqlite-code.ts';
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.ts';

/** options for `new SqliteStore()`: give `database` or `path`. */
export interface SqliteStoreOptions {
	/**
	 * an open connection (better-sqlite3 `Database`, node:sqlite `DatabaseSync`), shared with the
	 * app or other stores. the store never closes it; it sets a busy timeout only if it has none
	 * or `busyTimeout` is given, and leaves the journal mode alone (use WAL).
	 */
	database?: SqliteDatabase | undefined;
	/**
	 * a file to open (created if missing) with better-sqlite3, or node:sqlite when better-sqlite3
	 * is not installed; switched to WAL. `close()` closes it.
	 */
	path?: string | undefined;
	/**
	 * the table, checked (and created if missing) when the store is made, under the file's write
	 * lock; default `oauth_store`. 1 to 63 letters, digits or `_`, not starting with a digit. give
	 * sessions and states a table each: `clear()` empties the whole table.
	 */
	table?: string | undefined;
	/** how long a statement waits for another process's write, in milliseconds; default 5000. */
	busyTimeout?: number | undefined;
	/**
	 * how many bytes of a file opened from `path` are memory-mapped for reads; default just under
	 * 2 GiB (SQLite's ceiling), `0` turns it off. keeps `get` flat as the file grows. a
	 * non-negative integer; ignored with `database` (set `PRAGMA mmap_size` on it yourself).
	 */
	mmapSize?: number | undefined;
	/**
	 * milliseconds between WAL checkpoints run by a worker thread for a file opened from `path`
	 * with better-sqlite3 (one worker per file in a thread, shared by its stores and locks);
	 * default 100. `0` leaves checkpoints to SQLite, on the caller's thread, after the commit that
	 * takes the WAL past 1,000 pages. a non-negative integer; ignored with `database` and node:sqlite.
	 */
	checkpointInterval?: number | undefined;
	/**
	 * whether a file opened from `path` overwrites deleted and replaced rows with zeros (`PRAGMA
	 * secure_delete`), so that a signed-out session's tokens and DPoP private key do not stay in
	 * the file's free space; default `true`. ignored with `database` (set the pragma on it yourself).
	 */
	secureDelete?: boolean | undefined;
	/** start purging expired rows after this many writes; default 100. a positive integer. */
	purgeInterval?: number | undefined;
	/**
	 * delete at most this many expired rows per purge step; default 32 (well under a millisecond).
	 * steps run off the write path, one per event-loop turn, until no expired row is left; where a
	 * worker checkpoints the file, a pause of a little over `checkpointInterval` follows every 32
	 * steps (those of all the stores on the file in this process together), so that a checkpoint
	 * can finish and the WAL start over.
	 */
	purgeLimit?: number | undefined;
	/** the clock, in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
}

/**
 * rows one purge step deletes by default: each deleted row costs index and page work (about
 * 10-20 µs), and better-sqlite3 runs on the caller's thread, so a step stays under a millisecond.
 */
const DEFAULT_PURGE_LIMIT = 32;

/** the format of store tables this version reads and writes. */
const STORE_SCHEMA_VERSION = 1;

interface Statements {
	select: SqliteStatement;
	upsert: SqliteStatement;
	remove: SqliteStatement;
	take: SqliteStatement;
	clear: SqliteStatement;
	purge: SqliteStatement;
	nextExpiry: SqliteStatement;
}

const prepare = (database: SqliteDatabase, quoted: string): Statements => ({
	// expired rows are invisible to reads; the purge removes them later
	select: database.prepare(
		`SELECT value FROM ${quoted} WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)`,
	),
	// an upsert in one statement: a second set replaces value and expiry, never adds a row
	upsert: database.prepare(
		`INSERT INTO ${quoted} (key, value, expires_at) VALUES (?, ?, ?)
		 ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
	),
	remove: database.prepare(`DELETE FROM ${quoted} WHERE key = ?`),
	// read and delete in one statement: SQLite runs it under the write lock, so of any number of
	// connections and processes taking one key, exactly one gets the row
	take: database.prepare(`DELETE FROM ${quoted} WHERE key = ? RETURNING value, expires_at`),
	clear: database.prepare(`DELETE FROM ${quoted}`),
	// the partial index on expires_at finds the oldest expired rows without a scan; LIMIT bounds the work
	purge: database.prepare(
		`DELETE FROM ${quoted} WHERE rowid IN (
		   SELECT rowid FROM ${quoted} WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
	),
	// the first entry of the partial index on expires_at: one lookup, whatever the table's size
	nextExpiry: database.prepare(
		`SELECT expires_at FROM ${quoted} WHERE expires_at IS NOT NULL ORDER BY expires_at LIMIT 1`,
	),
});

/**
 * a `Store` in a SQLite file, for one host: several processes may share the file. values are
 * JSON text; `take` is atomic across connections and processes; entries with an `expiresAt` stop
 * being returned when it passes, and are purged a bounded batch at a time every so many writes.
 * methods are async and every SQLite failure rejects with `StoreUnavailableError`, never with
 * `undefined` for a value that is there.
 */
export class SqliteStore<K extends string = string, V = unknown> implements Store<K, V> {
	/** the table this store uses. */
	readonly table: string;

	readonly #connection: Connection;
	readonly #schema: TableSchema;
	readonly #statements: Statements;
	readonly #now: () => number;
	readonly #purgeInterval: number;
	readonly #purgeLimit: number;
	/** milliseconds between two bursts of purge steps; 0 when no worker checkpoints the file. */
	readonly #purgePause: number;
	/** the pacing shared with the other stores on the file in this process; none without a pause. */
	readonly #purgePacer: PurgePacer | undefined;
	#writesSincePurge = 0;
	#purgeTimer: ReturnType<typeof setTimeout> | undefined;
	/** wakes the purge when the earliest entry with an expiry runs out, writes or none. */
	#expiryTimer: ReturnType<typeof setTimeout> | undefined;
	/** when `#expiryTimer` is for, on the store's clock. */
	#expiryAt = 0;
	/**
	 * the async context the store was made in, where its purge timers are made. why: a timer runs
	 * in the context it was set in, and each purge re-arms the next from its own: made in the
	 * request whose write armed it, every later purge (the clock it reads, any instrumentation of
	 * the driver) was that request's for the life of the process, in its log and trace (an app's
	 * `AsyncLocalStorage`), and kept its context object from being collected.
	 */
	readonly #housekeeping = new AsyncResource('SqliteStoreHousekeeping');
	#closed = false;
	/**
	 * what the purge timers hold: the store weakly. why: a timer holding the store keeps it and its
	 * connection for as long as its table has a row with an expiry (states always have one), so
	 * every store dropped without `close()` (a hot reload, a store per request) stayed for the life
	 * of the process. a store collected meanwhile leaves its timer nothing to do.
	 */
	readonly #self: { deref(): SqliteStore<K, V> | undefined } =
		// a runtime without WeakRef (workerd on an older compatibility date) holds it strongly
		typeof WeakRef === 'function' ? new WeakRef(this) : { deref: () => this };

	/** @param options the database or its path, the table, tuning and purging; see `SqliteStoreOptions` */
	constructor(options: SqliteStoreOptions) {
		// left out or null, the destructuring below would fail with a message naming nothing
		if (typeof options !== 'object' || options === null) {
			throw new TypeError(
				`SqliteStore options must be an object ({ path } or { database }), got ${options === null ? 'null' : typeof options}`,
			);
		}
		const { table = 'oauth_store', now = Date.now } = options;
		const quoted = quoteTable('table', table);
		if (typeof now !== 'function') {
			throw new TypeError(`now must be a function returning milliseconds since the epoch, got ${typeof now}`);
		}
		this.#purgeInterval = positiveInteger('purgeInterval', options.purgeInterval, 100);
		this.#purgeLimit = positiveInteger('purgeLimit', options.purgeLimit, DEFAULT_PURGE_LIMIT);
		this.#now = now;
		this.table = table;
		this.#schema = {
			name: table,
			kind: 'store',
			version: STORE_SCHEMA_VERSION,
			create: [
				// a rowid table (not WITHOUT ROWID): values can be large
				`CREATE TABLE ${quoted} (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, expires_at INTEGER) STRICT`,
				// why ":": indexes share the tables' namespace, and a table name (checked above) has no
				// ":", so no store or lock table can ever take this name or be refused for it. files
				// made before keep their "<table>_expires_at" index; ensureSchema refuses that name
				`CREATE INDEX "${table}:expires_at" ON ${quoted} (expires_at) WHERE expires_at IS NOT NULL`,
			],
		};

		let statements: Statements | undefined;
		this.#connection = connect(options satisfies ConnectionOptions, (database) => {
			ensureSchema(database, this.#schema);
			statements = prepare(database, quoted);
		});
		this.#statements = statements!;
		this.#purgePause = purgePause(this.#connection.backgroundCheckpointInterval);
		// a pause means a worker checkpoints the file, which the store opened from `path`
		this.#purgePacer = this.#purgePause > 0 ? acquirePurgePacer(options.path!) : undefined;
		// its pacing too; built apart (not a closure here, where `this` is captured) so as not to hold the store
		closeWhenCollected(this, this.#connection, this.#purgePacer);
		// entries a process before this one left to run out (an app restarted) go when they do
		this.#armExpiry();
	}

	async get(key: K): Promise<V | undefined> {
		if (!storable(key)) return undefined;
		const row = this.#run('get', () => this.#statements.select.get(key, this.#now())) as
			| { value: string }
			| undefined
			| null;
		// no row: undefined from better-sqlite3 and node:sqlite, null from bun:sqlite
		return row == null ? undefined : parse<V>(row.value, 'get');
	}

	async set(key: K, value: V, options?: StoreSetOptions): Promise<void> {
		if (!storable(key)) {
			throw new TypeError(
				'key must not contain a lone surrogate: SQLite keeps text as UTF-8, which cannot hold one',
			);
		}
		const text = JSON.stringify(value);
		if (typeof text !== 'string') {
			throw new TypeError(`value must be JSON-serialisable, got ${typeof value}`);
		}
		const expiresAt = expiresAtOf(options);
		// rounded up: an entry may live a little longer than asked, never shorter
		const expires = expiresAt === undefined ? null : Math.ceil(expiresAt);
		this.#run('set', () => this.#statements.upsert.run(key, text, expires));
		this.#maybePurge();
		if (expires !== null) this.#armExpiry(expires);
	}

	async delete(key: K): Promise<void> {
		if (!storable(key)) return;
		this.#run('delete', () => this.#statements.remove.run(key));
	}

	async clear(): Promise<void> {
		this.#run('clear', () => this.#statements.clear.run());
	}

	async take(key: K): Promise<V | undefined> {
		if (!storable(key)) return undefined;
		const row = this.#run('take', () => this.#statements.take.get(key)) as
			| { value: string; expires_at: number | bigint | null }
			| undefined
			| null;
		if (row == null) return undefined;
		// an expired row is deleted all the same, but not handed out
		if (row.expires_at !== null && Number(row.expires_at) <= this.#now()) return undefined;
		return parse<V>(row.value, 'take');
	}

	/**
	 * deletes up to `purgeLimit` expired rows now, the earliest first, and returns how many went.
	 * the store runs this by itself; call it to purge on your own schedule.
	 */
	async purge(): Promise<number> {
		return Number(
			this.#run('purge', () => this.#statements.purge.run(this.#now(), this.#purgeLimit)).changes,
		);
	}

	/** closes the connection if the store opened it (`path`); a given `database` stays open. */
	close(): void {
		this.#closed = true;
		clearTimeout(this.#purgeTimer);
		this.#purgeTimer = undefined;
		clearTimeout(this.#expiryTimer);
		this.#expiryTimer = undefined;
		this.#purgePacer?.release();
		this.#connection.close();
	}

	/**
	 * runs a statement, turning a driver failure into `StoreUnavailableError`. a table dropped while
	 * the store runs is made again (as on first use) and the statement, which did nothing, run once
	 * more: else every call would fail until a restart.
	 */
	#run<T>(operation: SqliteOperation, fn: () => T): T {
		// why: SQLite writes on into a file deleted or replaced under it (a cleanup job, a restore),
		// without an error: the write, a refresh's new tokens, would be gone at the next start.
		// reads go on (what they find is what this process wrote)
		if (operation !== 'get' && this.#connection.replaced()) {
			throw new StoreUnavailableError(operation, FILE_REPLACED_REASON);
		}
		try {
			try {
				return fn();
			} catch (err) {
				if (!isMissingTable(err)) throw err;
				// statements prepared on the dropped table compile again against the new one
				ensureSchema(this.#connection.database, this.#schema);
				return fn();
			}
		} catch (err) {
			// the dropped table's name is now another's
			if (err instanceof StoreSchemaError) throw err;
			throw new StoreUnavailableError(operation, messageOf(err), { cause: err });
		}
	}

	/** every `purgeInterval` writes, schedules purge steps, off this write's path. */
	#maybePurge(): void {
		if (++this.#writesSincePurge < this.#purgeInterval || this.#purgeTimer !== undefined) return;
		this.#writesSincePurge = 0;
		this.#schedulePurge();
	}

	#schedulePurge(delay = 0): void {
		// a timer, not the write itself (made in the store's own context: see `#housekeeping`):
		// better-sqlite3 blocks the thread, so each bounded step
		// gets its own event-loop turn and the process never waits on a backlog of expired rows
		// a pause can outlast a timer (1.5 × a checkpointInterval up to 2^31 - 1 ms): a longer delay
		// fires after 1 ms, and the step, finding the pause not over, would spin every millisecond.
		// capped, the step that wakes early finds what is left of the pause and waits again
		const self = this.#self;
		this.#purgeTimer = this.#housekeeping.runInAsyncScope(() =>
			setTimeout(
				() => {
					const store = self.deref();
					if (store !== undefined) store.#purgeStep();
				},
				Math.min(delay, MAX_TIMER_MS),
			),
		);
		// housekeeping must not keep the process alive
		(this.#purgeTimer as { unref?: () => void }).unref?.();
	}

	/**
	 * makes sure a purge runs once the earliest entry with an expiry (`expires`, else the table's
	 * earliest) has run out, writes or none. why: a write-count purge alone leaves an abandoned
	 * sign-in's state (its DPoP private key, PKCE verifier, the app's state) in the file for as
	 * long as a quiet app makes no `purgeInterval` writes; states are to live 10 minutes.
	 */
	#armExpiry(expires?: number): void {
		if (this.#closed) return;
		if (this.#expiryTimer !== undefined) {
			// the one armed comes first (states all live 10 minutes: the usual case)
			if (expires === undefined || expires >= this.#expiryAt) return;
			clearTimeout(this.#expiryTimer);
			this.#expiryTimer = undefined;
		}
		let next = expires;
		if (next === undefined) {
			try {
				const row = this.#statements.nextExpiry.get() as
					| { expires_at: number | bigint | null }
					| undefined
					| null;
				if (row == null || row.expires_at === null) return;
				next = Number(row.expires_at);
			} catch {
				// housekeeping only: the next write with an expiry arms it again
				return;
			}
		}
		// +1: a row is purged once its expires_at is not after now
		const delay = Math.min(Math.max(next - this.#now(), 0) + 1, MAX_TIMER_MS);
		this.#expiryAt = next;
		const self = this.#self;
		// in the store's own context, not the writer's (see `#housekeeping`)
		this.#expiryTimer = this.#housekeeping.runInAsyncScope(() =>
			setTimeout(() => {
				const store = self.deref();
				if (store === undefined) return;
				store.#expiryTimer = undefined;
				if (store.#closed) return;
				// a purge under way (write-count) re-arms when it is done
				if (store.#purgeTimer === undefined) store.#purgeStep();
			}, delay),
		);
		// housekeeping must not keep the process alive
		(this.#expiryTimer as { unref?: () => void }).unref?.();
	}

	#purgeStep(): void {
		this.#purgeTimer = undefined;
		if (this.#closed) return;
		// another store on the file may have ended a burst: its pause holds this store's steps too,
		// or the stores would fill each other's pauses and no checkpoint pass could finish
		const wait = this.#purgePacer?.wait() ?? 0;
		if (wait > 0) {
			this.#schedulePurge(wait);
			return;
		}
		let deleted: number;
		try {
			deleted = Number(this.#statements.purge.run(this.#now(), this.#purgeLimit).changes);
		} catch {
			// housekeeping only: the writes succeeded, and the next purge will retry
			return;
		}
		// every step that committed counts toward the file's burst, a last partial one too. after a
		// burst, a pause the checkpoint worker can finish a pass in: a stream of commits with no gap
		// keeps the WAL from ever starting over (see purge-pacing.ts)
		const pause = deleted > 0 ? (this.#purgePacer?.stepped(this.#purgePause) ?? 0) : 0;
		// a full batch means more may be waiting: another step, on a later turn
		if (deleted === this.#purgeLimit) this.#schedulePurge(pause);
		// done: the purge wakes again when the next entry runs out
		else this.#armExpiry();
	}
}

/**
 * whether `key` can name an entry: false for one with a lone UTF-16 surrogate, which SQLite's
 * UTF-8 text cannot hold. node:sqlite and bun:sqlite put U+FFFD in its place, so every such key
 * would share one row (better-sqlite3 kept them apart): refused on every driver alike.
 * @throws {TypeError} when it is not a string
 */
const storable = (key: unknown): boolean => {
	if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${typeof key}`);
	return !hasLoneSurrogate(key);
};

const parse = <V>(text: string, operation: SqliteOperation): V => {
	try {
		return JSON.parse(text) as V;
	} catch {
		// the parser's message quotes the text, which may hold tokens: say only what went wrong
		throw new StoreUnavailableError(operation, 'the stored value is not valid JSON');
	}
};
