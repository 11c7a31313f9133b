import type { Store, StoreGetOptions, StoreSetOptions } from '@atcute/oauth-client';
import { expiresAtOf } from '@atcute-oauth/internal/expires-at';
import { hasLoneSurrogate } from '@atcute-oauth/internal/lone-surrogate';
import { isTimerDelay, MAX_TIMER_MS } from '@atcute-oauth/internal/timer-delay';

import {
	DEFAULT_PURGE_INTERVAL,
	DEFAULT_PURGE_LIMIT,
	DEFAULT_TIMEOUT_MS,
	MAX_KEY_BYTES,
} from './constants.ts';
import { PostgresStoreError, type StoreOperation, StoreUnavailableError } from './errors.ts';
import { checkSignal } from './internal/check-signal.ts';
import { derivedName, quoteIdentifier } from './internal/identifier.ts';
import {
	migrationSql,
	NOT_OURS_STATE,
	RACED_STATE,
	refuseTakenName,
	VERSION_TOO_NEW_STATE,
} from './internal/migration.ts';
import { queryWithin } from './internal/query-within.ts';
import { ClosedFailure, QueryFailure, runQuery } from './internal/run-query.ts';
import type { PgQueryable } from './queryable.ts';

/** options for `new PostgresStore()`. */
export interface PostgresStoreOptions {
	/**
	 * a node-postgres `Pool` (or `Client`, or anything with its `query`), shared with the app if you
	 * like. the store only sends queries: it never connects, ends or listens on it.
	 */
	pool: PgQueryable;
	/**
	 * the table, created on first use; letters, digits and `_`, at most 63. required: give sessions
	 * and states a table each, since `clear()` empties the whole table.
	 */
	table: string;
	/** the schema of the table (created if missing, unless `public`); default `public`. */
	schema?: string | undefined;
	/**
	 * how long each operation may take, waiting for a pool connection included, in milliseconds;
	 * default 5 000. past it the operation fails with `StoreUnavailableError`.
	 */
	timeout?: number | undefined;
	/** delete expired rows every this many writes; a positive integer, default 100. */
	purgeInterval?: number | undefined;
	/** delete at most this many expired rows per purge; a positive integer, default 500. */
	purgeLimit?: number | undefined;
	/** the clock that `expiresAt` is measured against, in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
	/**
	 * create or migrate the table on first use; default true. false for a role that may not
	 * create tables: run `migrate()` once with one that may (at deploy), and the store only
	 * reads and writes.
	 */
	migrate?: boolean | undefined;
}

/** the format of store tables this version reads and writes; one list of statements per version. */
const storeSteps = (schema: string, table: string, qualified: string): ReadonlyArray<readonly string[]> => [
	[
		// the index's name may be taken (say, by the table of a store named "<table>_expires_at_idx"):
		// refused as not_ours, like a table of that name, before CREATE INDEX fails on it
		refuseTakenName(schema, table, derivedName(table, '_expires_at_idx')),
		// json, not jsonb: json keeps the text as written (key order, numbers, "\u0000"), which the
		// client's values must round-trip exactly; jsonb reorders keys and refuses "\u0000".
		// a C collation makes keys compare byte for byte, whatever the database's locale
		`CREATE TABLE ${qualified} (key text COLLATE "C" PRIMARY KEY, value json NOT NULL, expires_at timestamptz)`,
		// only rows that can expire: sessions (no expiry) stay out of it, and the purge finds
		// the oldest expired rows without a scan
		// why derivedName: "<table>_expires_at_idx" cut to 63 bytes is the table's own name for a
		// 63-character table, which then could never be created
		`CREATE INDEX "${derivedName(table, '_expires_at_idx')}" ON ${qualified} (expires_at) WHERE expires_at IS NOT NULL`,
	],
];

/**
 * SQLSTATEs after which the migration is run again: a serialization failure and a deadlock, met
 * when two processes (or two stores of one) migrate at once under a `serializable` default.
 */
const RERUN_STATES = new Set(['40001', '40P01']);
/** how many times the migration statement is sent at most, the first included. */
const MIGRATION_ATTEMPTS = 5;

/** SQLSTATEs of a statement on a table or schema that does not exist (any more). */
const MISSING_TABLE_STATES = new Set(['42P01', '3F000']);

/** whether PostgreSQL refused the statement because its table or schema does not exist. */
const isMissingTable = (err: PostgresStoreError): boolean =>
	err.code === 'rejected' &&
	MISSING_TABLE_STATES.has((err.cause as { code?: unknown } | undefined)?.code as string);

/**
 * milliseconds since the epoch, as a timestamptz parameter. why pg_catalog: `float8 / integer`
 * has no exact operator there, so one in a schema of the search_path (`public`, which every role
 * may write to before PostgreSQL 15) would be chosen over it, and run as the store's role
 * (CVE-2018-1058); a qualified operator or function is looked up in pg_catalog only
 */
const AT = (param: string): string => `pg_catalog.to_timestamp(${param}::float8 OPERATOR(pg_catalog./) 1000)`;

/** the earliest timestamptz, 4714-11-24 BC, in milliseconds since the epoch; a Date goes further back. */
const EARLIEST_TIMESTAMP_MS = -210_866_803_200_000;

/** the largest purgeLimit and purgeInterval: far past any useful bound, and well within a LIMIT. */
const MAX_COUNT = 2 ** 31 - 1;

const positiveInteger = (option: string, value: number | undefined, fallback: number): number => {
	if (value === undefined) return fallback;
	if (!(Number.isInteger(value) && value > 0 && value <= MAX_COUNT)) {
		throw new TypeError(`${option} must be a positive integer up to ${MAX_COUNT}, got ${value}`);
	}
	return value;
};

/**
 * a `Store` in a PostgreSQL table, for apps that run several processes or machines: a row per
 * key with its value as `json` and an optional expiry. `set` is an upsert, `take` one
 * `DELETE … RETURNING` (exactly one caller gets a state), expired rows are never returned and
 * are purged a bounded batch at a time through a partial index. the table is created (and later
 * migrated) on first use, once, however many processes start at the same time. every failure
 * is a typed error, never an `undefined` for a session that is there.
 */
export class PostgresStore<K extends string = string, V = unknown> implements Store<K, V> {
	/** the schema of the table. */
	readonly schema: string;
	/** the table. */
	readonly table: string;

	readonly #pool: PgQueryable;
	readonly #timeout: number;
	readonly #purgeInterval: number;
	readonly #purgeLimit: number;
	readonly #now: () => number;
	readonly #sql: Record<
		'migrate' | 'migrateAgain' | 'get' | 'set' | 'delete' | 'take' | 'clear' | 'purge',
		string
	>;
	readonly #autoMigrate: boolean;
	#ready: Promise<void> | undefined;
	/** whether `#ready` has resolved: then an operation has no migration to wait for (no timer). */
	#migrated = false;
	#writesSincePurge = 0;
	#purging = false;

	/** @param options the pool, table, time limit, purging and migration; see `PostgresStoreOptions` */
	constructor(options: PostgresStoreOptions) {
		const {
			pool,
			table,
			schema = 'public',
			timeout = DEFAULT_TIMEOUT_MS,
			now = Date.now,
			migrate = true,
		} = options ?? {};
		if (typeof (pool as Partial<PgQueryable> | undefined)?.query !== 'function') {
			throw new TypeError('pool must be a node-postgres Pool (or anything with its query method)');
		}
		const quotedTable = quoteIdentifier('table', table);
		const quotedSchema = quoteIdentifier('schema', schema);
		// each query's deadline is a timer
		if (!isTimerDelay(timeout)) {
			throw new TypeError(
				`timeout must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${timeout}`,
			);
		}
		if (typeof now !== 'function') throw new TypeError('now must be a function');
		if (typeof migrate !== 'boolean') throw new TypeError(`migrate must be a boolean, got ${typeof migrate}`);
		this.#autoMigrate = migrate;
		this.#purgeInterval = positiveInteger('purgeInterval', options.purgeInterval, DEFAULT_PURGE_INTERVAL);
		this.#purgeLimit = positiveInteger('purgeLimit', options.purgeLimit, DEFAULT_PURGE_LIMIT);
		this.#pool = pool;
		this.#timeout = timeout;
		this.#now = now;
		this.schema = schema;
		this.table = table;

		const t = `${quotedSchema}.${quotedTable}`;
		const migration = { schema, table, kind: 'store', steps: storeSteps(schema, table, t) };
		this.#sql = {
			migrate: migrationSql(migration),
			migrateAgain: migrationSql(migration, true),
			// value as text: parsed here, not by a type parser the app may have set for json
			get: `SELECT value::text AS value FROM ${t} WHERE key = $1 AND (expires_at IS NULL OR expires_at > ${AT('$2')})`,
			// one statement: a second set replaces value and expiry (R14: a session re-set
			// without expiry keeps no earlier one), and never adds a row
			set: `INSERT INTO ${t} (key, value, expires_at) VALUES ($1, $2::json, ${AT('$3')})
			      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
			delete: `DELETE FROM ${t} WHERE key = $1`,
			// read and delete in one statement: of any number of callers taking one key, the row
			// lock lets exactly one delete it and get it back
			take: `DELETE FROM ${t} WHERE key = $1
			       RETURNING value::text AS value, (expires_at IS NOT NULL AND expires_at <= ${AT('$2')})::text AS expired`,
			clear: `DELETE FROM ${t}`,
			// the partial index gives the oldest expired rows; LIMIT bounds the work, and SKIP LOCKED
			// leaves rows another purge (or a writer) holds to it. run out on the database's clock too:
			// one process whose clock stepped ahead (an NTP step, a VM resumed) must not delete what
			// every other process still reads as live (their sign-ins under way)
			purge: `DELETE FROM ${t} WHERE key IN (
			          SELECT key FROM ${t} WHERE expires_at <= LEAST(${AT('$1')}, pg_catalog.now())
			          ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		};
	}

	/**
	 * creates the table (or brings it to this version's format) if that was not done yet. every
	 * operation does it first on its own (unless `migrate: false`); call it at startup to fail early.
	 * @throws {PostgresStoreError} `not_ours` or `version_too_new` when the table cannot be used
	 * @throws {StoreUnavailableError} when PostgreSQL cannot be reached; a later call tries again
	 */
	migrate(): Promise<void> {
		if (this.#ready !== undefined) return this.#ready;
		const ready = this.#query('migrate', this.#sql.migrate, [], undefined, this.#sql.migrateAgain).then(
			() => {
				// unless a dropped table has made it start again meanwhile
				if (this.#ready === ready) this.#migrated = true;
			},
			(err: unknown) => {
				// a database that was down at startup must not make the store unusable for good
				if (this.#ready === ready) this.#ready = undefined;
				throw err;
			},
		);
		this.#ready = ready;
		return ready;
	}

	/**
	 * the value under `key`, or `undefined`.
	 * @throws {TypeError} before any query, when `options.signal` is not an AbortSignal (`null` is none)
	 */
	async get(key: K, options?: StoreGetOptions): Promise<V | undefined> {
		// checked before the key: a wrong signal is refused whatever the key
		const signal = checkSignal(options?.signal);
		if (!storable(key)) return undefined;
		const rows = await this.#run<{ value: string }>('get', this.#sql.get, [key, this.#now()], signal).catch(
			noRowForUnencodableKey,
		);
		return rows[0] === undefined ? undefined : this.#parse(rows[0].value, 'get');
	}

	/**
	 * stores `value` under `key`, replacing what was there.
	 * @throws {TypeError} before any query, for a key over 2,048 bytes of UTF-8,
	 * or one with U+0000 or a lone surrogate
	 */
	async set(key: K, value: V, options?: StoreSetOptions): Promise<void> {
		if (!storable(key)) {
			throw new TypeError(
				'key must not contain U+0000 (NUL) or a lone surrogate: PostgreSQL text cannot hold them',
			);
		}
		// why: past ~2,700 bytes the primary key's index refuses the row, as a generic "rejected".
		// only set refuses: get, take and delete of a longer key work (they find no row, or one an
		// earlier version stored), and a callback's ?state= is anyone's to make long. its length
		// only in the message, never the key, which may be a state
		const bytes = Buffer.byteLength(key, 'utf8');
		if (bytes > MAX_KEY_BYTES) {
			throw new TypeError(`key must be at most ${MAX_KEY_BYTES} bytes in UTF-8, got ${bytes} bytes`);
		}
		const text = JSON.stringify(value);
		if (typeof text !== 'string') {
			throw new TypeError('value must be JSON-serialisable (not undefined, a function or a symbol)');
		}
		const expiresAt = expiresAtOf(options);
		// rounded up: an entry may live a little longer than asked, never shorter. an expiry before
		// the earliest timestamptz is as past as that one
		const expires = expiresAt === undefined ? null : Math.max(Math.ceil(expiresAt), EARLIEST_TIMESTAMP_MS);
		await this.#run('set', this.#sql.set, [key, text, expires]);
		this.#maybePurge();
	}

	async delete(key: K): Promise<void> {
		if (!storable(key)) return;
		await this.#run('delete', this.#sql.delete, [key]).catch(noRowForUnencodableKey);
	}

	async take(key: K): Promise<V | undefined> {
		if (!storable(key)) return undefined;
		// `expired` as text: an app's type parser for booleans could make 'f' of false, which is truthy
		const rows = await this.#run<{ value: string; expired: string }>('take', this.#sql.take, [
			key,
			this.#now(),
		]).catch(noRowForUnencodableKey);
		const row = rows[0];
		// an expired row is deleted all the same, but not handed out
		if (row === undefined || row.expired !== 'false') return undefined;
		return this.#parse(row.value, 'take');
	}

	/** removes every row of this store's table (and only those). */
	async clear(): Promise<void> {
		await this.#run('clear', this.#sql.clear, []);
	}

	/**
	 * deletes up to `purgeLimit` expired rows now, and returns how many it deleted. `set` does it
	 * on its own every `purgeInterval` writes, without waiting for it.
	 */
	async purge(): Promise<number> {
		if (this.#autoMigrate) await this.migrate();
		const result = await this.#query('purge', this.#sql.purge, [this.#now(), this.#purgeLimit]);
		return result.rowCount ?? 0;
	}

	async #run<R>(
		operation: StoreOperation,
		text: string,
		values: unknown[],
		signal?: AbortSignal,
	): Promise<R[]> {
		// one deadline for the whole operation: the migration it may wait for, its statement, and
		// both again after a dropped table
		const started = performance.now();
		const left = () => Math.max(1, this.#timeout - (performance.now() - started));
		const query = async () =>
			(await this.#query(operation, text, values, signal, undefined, left())).rows as R[];
		if (!this.#autoMigrate) return query();
		if (!this.#migrated) await this.#waitForMigration(operation, left(), signal);
		try {
			return await query();
		} catch (err) {
			// the table (or its schema) was dropped since this store migrated: made again, and the
			// statement, which did nothing, sent once more. otherwise every call would fail until a
			// restart, though the migration knows how to make it
			if (!(err instanceof PostgresStoreError && isMissingTable(err))) throw err;
			this.#ready = undefined;
			this.#migrated = false;
			await this.#waitForMigration(operation, left(), signal);
			return query();
		}
	}

	/**
	 * waits for the migration (shared by every operation of this store) at most `ms`, or until
	 * `signal` aborts (with its reason); the migration's own failure is thrown as it is.
	 */
	async #waitForMigration(
		operation: StoreOperation,
		ms: number,
		signal: AbortSignal | undefined,
	): Promise<void> {
		const ready = this.migrate();
		// the migration's failure comes back as a value: runQuery would make it a QueryFailure
		const outcome = await runQuery(
			() =>
				ready.then(
					() => undefined,
					(err: unknown) => ({ err }),
				),
			{ timeout: ms, signal, limit: this.#timeout },
		).catch((err: unknown) => this.#fail(operation, err));
		if (outcome !== undefined) throw outcome.err;
	}

	/**
	 * runs a statement. with `raced` (the migration), it is run again when it meets another
	 * process's migration: as `raced` after `RACED_STATE`, as it was after a serialization failure
	 * or deadlock (a `serializable` default isolation), up to `MIGRATION_ATTEMPTS` in all.
	 */
	async #query(
		operation: StoreOperation,
		text: string,
		values: unknown[],
		signal?: AbortSignal,
		raced?: string,
		timeout = this.#timeout,
	) {
		const run = (sql: string) =>
			queryWithin(this.#pool, { text: sql, values }, { timeout, signal, limit: this.#timeout });
		try {
			let sql = text;
			for (let attempt = 1; ; attempt++) {
				try {
					return await run(sql);
				} catch (err) {
					if (raced === undefined || !(err instanceof QueryFailure) || attempt === MIGRATION_ATTEMPTS)
						throw err;
					// a new statement, so a new snapshot: it sees what the other process committed. the
					// migration is idempotent (it makes only what is missing), so running it again is safe
					if (err.sqlState === RACED_STATE) sql = raced;
					else if (!RERUN_STATES.has(err.sqlState ?? '')) throw err;
				}
			}
		} catch (err) {
			return this.#fail(operation, err);
		}
	}

	/** `err` as the store reports it: a `QueryFailure` becomes its typed error, anything else is rethrown. */
	#fail(operation: StoreOperation, err: unknown): never {
		if (!(err instanceof QueryFailure)) throw err;
		const message = `postgres store ${operation} failed: ${err.message}`;
		if (err.transient) throw new StoreUnavailableError(operation, message, { cause: err.cause });
		const code =
			err instanceof ClosedFailure
				? 'closed'
				: err.sqlState === NOT_OURS_STATE
					? 'not_ours'
					: err.sqlState === VERSION_TOO_NEW_STATE
						? 'version_too_new'
						: 'rejected';
		throw new PostgresStoreError(code, operation, message, { cause: err.cause });
	}

	#parse(text: string, operation: StoreOperation): V {
		try {
			return JSON.parse(text) as V;
		} catch {
			// no cause: the parser's message quotes the text, which may hold tokens
			throw new PostgresStoreError(
				'invalid_value',
				operation,
				`the value stored in table ${this.schema}.${this.table} is not JSON`,
			);
		}
	}

	/** every `purgeInterval` writes, starts a purge without waiting for it. */
	#maybePurge(): void {
		if (++this.#writesSincePurge < this.#purgeInterval || this.#purging) return;
		this.#writesSincePurge = 0;
		this.#purging = true;
		this.purge()
			.catch(() => {
				// housekeeping only: the write itself succeeded, and the next purge will retry
			})
			.finally(() => {
				this.#purging = false;
			});
	}
}

/**
 * whether `key` can be stored; false for a key with U+0000, which no row can hold (so there is
 * none to get, take or delete).
 * @throws {TypeError} when it is not a string
 */
/**
 * SQLSTATEs of a key the database's encoding cannot hold (a character LATIN1 lacks, in a LATIN1
 * database): no row can have such a key.
 */
const UNENCODABLE_STATES = new Set(['22P05', '22021']);

/**
 * no rows, for a read or delete whose key the database's encoding cannot hold: anyone can send
 * one (a callback's ?state=), and "no entry" is the answer, as for U+0000 (see `storable`), not
 * a `PostgresStoreError`. any other failure is thrown as it is.
 */
const noRowForUnencodableKey = (err: unknown): never[] => {
	const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
	if (
		err instanceof PostgresStoreError &&
		err.code === 'rejected' &&
		UNENCODABLE_STATES.has(code as string)
	) {
		return [];
	}
	throw err;
};

const storable = (key: unknown): boolean => {
	if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${typeof key}`);
	// why: sent as text, such a key fails the statement (SQLSTATE 22021), and anyone can send one
	// (a callback with ?state=%00): a read must say "no entry", not PostgresStoreError. a lone
	// surrogate becomes U+FFFD on its way to the server, so two such keys would share one row
	return !key.includes('\u0000') && !hasLoneSurrogate(key);
};
