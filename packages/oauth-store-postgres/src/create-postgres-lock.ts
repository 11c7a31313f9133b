import { type LockFunction, LockTimeoutError, LockUnavailableError } from '@atcute/oauth-client';
import { attemptLimit } from '@atcute-oauth/internal/attempt-limit';
import {
	elapsedSince,
	laterMoment,
	type Moment,
	momentNow,
} from '@atcute-oauth/internal/elapsed-on-both-clocks';
import { watchAborted } from '@atcute-oauth/internal/hold-signal';
import { trackHolding, warnLeaseLost } from '@atcute-oauth/internal/lease-loss';
import { hasLoneSurrogate } from '@atcute-oauth/internal/lone-surrogate';
import { settleWithin } from '@atcute-oauth/internal/settle-within';
import { isTimerDelay, MAX_TIMER_MS } from '@atcute-oauth/internal/timer-delay';

import {
	DEFAULT_HEARTBEAT_MS,
	DEFAULT_LOCK_PREFIX,
	DEFAULT_MAX_RETRY_DELAY_MS,
	DEFAULT_RETRY_DELAY_MS,
	DEFAULT_TIMEOUT_MS,
	DEFAULT_WAIT_MS,
	RELEASE_WAIT_MS,
	SILENT_HOLDER_WAIT_MARGIN_MS,
} from './constants.ts';
import type { LeaseLostEvent, LeaseLostReason } from './errors.ts';
import { lockKey } from './internal/lock-key.ts';
import { connectFrom, PoolBackedUpFailure, type PoolConnect } from './internal/pool-connect.ts';
import { ClosedFailure, QueryFailure, runQuery } from './internal/run-query.ts';
import type { PgPool, PgPoolClient } from './queryable.ts';

/** options for `createPostgresLock`. */
export interface PostgresLockOptions {
	/**
	 * a node-postgres `Pool`. each held name keeps one of its connections checked out for as long
	 * as it is held (waiters do not); give the lock a pool of its own, or one with room for the
	 * refreshes that may run at once beside the app's queries.
	 */
	pool: PgPool;
	/** hashed with each lock name into its 64-bit advisory lock key; default `atcute-oauth-lock:`. */
	prefix?: string | undefined;
	/**
	 * how long to wait for a busy name before failing with `LockTimeoutError`, in milliseconds;
	 * default 90 000, longer than a refresh takes when each of its requests is tried once, or
	 * `silentHolderMs` + 5 000 when that is longer, so a waiter outlasts a holder whose host
	 * vanished until the server ends its session. 0: try once. the first attempt gets `timeout`
	 * for its connection and `timeout` again for its query; a later one gets one deadline for both:
	 * the time left of `waitMs`, or 1 s if less is left, and never more than `timeout`. so a
	 * database that stops answering fails the call with `LockUnavailableError` by the later of
	 * `waitMs` + 1 s (or + `timeout`, if shorter) and the end of the first attempt's two timeouts.
	 */
	waitMs?: number | undefined;
	/** the first delay between attempts while waiting, in milliseconds; default 10. it doubles each time, with jitter. */
	retryDelay?: number | undefined;
	/** the longest delay between attempts, in milliseconds; default 250. at least `retryDelay`. */
	maxRetryDelay?: number | undefined;
	/**
	 * how long getting a connection or one query may take, in milliseconds; default 5 000. an
	 * attempt after the first, while waiting for a busy name, gets at most this for both together.
	 */
	timeout?: number | undefined;
	/**
	 * how often a holder checks its connection with `SELECT 1`, in milliseconds; default 5 000. the
	 * heartbeat also keeps a live holder's connection from going silent for `silentHolderMs`.
	 */
	heartbeatMs?: number | undefined;
	/**
	 * how long PostgreSQL keeps the session of a holder that stopped talking (its host vanished, its
	 * process or machine froze) before it ends it, which frees the lock, in milliseconds; default 3
	 * × `heartbeatMs`, at least 2 × `heartbeatMs`. set on the holder's connection while it holds a
	 * name, then put back: `idle_session_timeout` on PostgreSQL 14 and later; on older servers,
	 * which lack it, TCP keepalives and `tcp_user_timeout` of about this long, which end the session
	 * of a vanished host but not of a frozen process whose machine still answers.
	 */
	silentHolderMs?: number | undefined;
	/**
	 * called when a holder finds its lock lost while it still runs (see `LeaseLostEvent`): another
	 * process may have held the same name at the same time. default: a process warning
	 * (`LeaseLostWarning`). the holder's result is returned all the same.
	 */
	onLeaseLost?: ((event: LeaseLostEvent) => void) | undefined;
}

/** the default `silentHolderMs`, in heartbeats. */
const SILENT_HOLDER_HEARTBEATS = 3;
/**
 * the least `silentHolderMs`, in heartbeats: a live holder's connection is idle for up to one
 * heartbeat between two, so this leaves it a whole heartbeat's delay (a busy event loop, a slow
 * network) before the server takes it for gone.
 */
const MIN_SILENT_HOLDER_HEARTBEATS = 2;
/** the shortest heartbeat taken, in milliseconds: anything shorter is most likely seconds. */
const MIN_HEARTBEAT_MS = 100;
/** the shortest silence a holder may keep before the server ends its session, in milliseconds. */
const MIN_SILENT_HOLDER_MS = 500;

/**
 * the settings that bound how long the server keeps a silent holder's session, in the order of
 * `TRY_LOCK`'s columns and `UNLOCK`'s parameters ($2 on): `idle_session_timeout` (PostgreSQL 14+),
 * else the TCP ones, which exist from PostgreSQL 12 (the oldest supported).
 */
const BOUNDING_SETTINGS = [
	'idle_session_timeout',
	'tcp_keepalives_idle',
	'tcp_keepalives_interval',
	'tcp_keepalives_count',
	'tcp_user_timeout',
] as const;

/**
 * tries the lock and, only when it is taken, bounds how long the server keeps this session once it
 * stops talking: `idle_session_timeout` ($2) where the server has it, else TCP keepalives ($3 s
 * idle, then $5 probes $4 s apart) and `tcp_user_timeout` ($6). the subquery (OFFSET 0: not merged
 * into the outer query) takes the lock and reads each setting's value before the outer query
 * changes it, to put it back on release. one statement, so the attempt's deadline covers it all; a
 * name it did not get changes nothing on the connection. `acquired` comes back as text ('true' or
 * 'false'): an app's type parser for booleans (`types` on its pool, or `pg.types` set globally) may
 * make a boolean anything, and a lock taken but read as not taken would stay on a pooled connection.
 * every function is named with pg_catalog (here and in UNLOCK): `concat_ws` takes VARIADIC "any",
 * so one of text arguments in a schema of the search_path (`public`, writable by every role before
 * PostgreSQL 15) would be chosen over it, and run as the lock's role (CVE-2018-1058).
 */
const TRY_LOCK = `SELECT CASE WHEN attempt.read_only THEN 'read_only'
		WHEN attempt.already THEN 'already_held' ELSE attempt.got::text END AS acquired,
	attempt.idle_session_timeout,
	attempt.tcp_keepalives_idle,
	attempt.tcp_keepalives_interval,
	attempt.tcp_keepalives_count,
	attempt.tcp_user_timeout,
	CASE WHEN attempt.got IS NOT TRUE THEN NULL
		WHEN attempt.idle_session_timeout IS NOT NULL THEN pg_catalog.set_config('idle_session_timeout', $2, false)
		ELSE pg_catalog.concat_ws(' ',
			pg_catalog.set_config('tcp_keepalives_idle', $3, false),
			pg_catalog.set_config('tcp_keepalives_interval', $4, false),
			pg_catalog.set_config('tcp_keepalives_count', $5, false),
			pg_catalog.set_config('tcp_user_timeout', $6, false))
	END AS bounded
FROM (
	SELECT pre.already, pre.read_only,
		CASE WHEN pre.already OR pre.read_only THEN NULL ELSE pg_catalog.pg_try_advisory_lock($1::bigint) END AS got,
		pg_catalog.current_setting('idle_session_timeout', true) AS idle_session_timeout,
		pg_catalog.current_setting('tcp_keepalives_idle') AS tcp_keepalives_idle,
		pg_catalog.current_setting('tcp_keepalives_interval') AS tcp_keepalives_interval,
		pg_catalog.current_setting('tcp_keepalives_count') AS tcp_keepalives_count,
		pg_catalog.current_setting('tcp_user_timeout') AS tcp_user_timeout
	FROM (
		-- this session holds the key already: a lock never stays on a connection it returns, so the
		-- statement ran on a server connection another client holds it on (a transaction-mode
		-- pooler), where pg_try_advisory_lock, re-entrant, would let a second holder in
		SELECT EXISTS (SELECT FROM pg_catalog.pg_locks
			WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid() AND objsubid = 1
				AND classid::bigint = (($1::bigint >> 32) & 4294967295)
				AND objid::bigint = ($1::bigint & 4294967295)) AS already,
			-- a standby, or a primary demoted after a failover (default_transaction_read_only): the
			-- advisory lock works there, but a refresh under it would spend its refresh token and then
			-- fail to store the new one, signing the account out. not taken: the caller tries later
			pg_catalog.current_setting('transaction_read_only') = 'on' AS read_only
		OFFSET 0
	) AS pre
	OFFSET 0
) AS attempt`;
/**
 * releases the lock and puts back each setting `TRY_LOCK` changed ($2 to $6, null for one it left
 * alone), in one statement: a connection whose settings could not be put back is closed, never
 * returned to the pool. `released` is text, as `acquired` above.
 */
const UNLOCK = `SELECT pg_catalog.pg_advisory_unlock($1::bigint)::text AS released,
	pg_catalog.concat_ws(' ',
		CASE WHEN $2::text IS NOT NULL THEN pg_catalog.set_config('idle_session_timeout', $2, false) END,
		CASE WHEN $3::text IS NOT NULL THEN pg_catalog.set_config('tcp_keepalives_idle', $3, false) END,
		CASE WHEN $4::text IS NOT NULL THEN pg_catalog.set_config('tcp_keepalives_interval', $4, false) END,
		CASE WHEN $5::text IS NOT NULL THEN pg_catalog.set_config('tcp_keepalives_count', $5, false) END,
		CASE WHEN $6::text IS NOT NULL THEN pg_catalog.set_config('tcp_user_timeout', $6, false) END
	) AS restored`;
const HEARTBEAT = 'SELECT 1';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const ignore = (): void => {};

/** one deadline for every step of an attempt: its signal aborts them with a failure naming `ms`. */
interface AttemptDeadline {
	readonly ms: number;
	readonly signal: AbortSignal;
	clear(): void;
}

const attemptDeadline = (ms: number): AttemptDeadline => {
	const controller = new AbortController();
	// the same failure as a step's own timeout, so the caller sees one kind of message
	const timer = setTimeout(
		() => controller.abort(new QueryFailure(true, undefined, `PostgreSQL did not answer within ${ms} ms`)),
		ms,
	);
	return { ms, signal: controller.signal, clear: () => clearTimeout(timer) };
};

/**
 * how many connections a node-postgres `Pool` has when every one is checked out and it may open
 * no more, else undefined (a pool with room, or one that does not say).
 */
const poolSize = (pool: object): number | undefined => {
	const { totalCount, idleCount, options } = pool as {
		totalCount?: unknown;
		idleCount?: unknown;
		options?: { max?: unknown };
	};
	if (typeof totalCount !== 'number' || typeof options?.max !== 'number') return undefined;
	return idleCount === 0 && totalCount >= options.max ? totalCount : undefined;
};

/** whether `pool` is one connection (a `Client`, or a connection checked out of a pool). */
const isSingleConnection = (pool: object): boolean => {
	const candidate = pool as { release?: unknown; escapeIdentifier?: unknown };
	return typeof candidate.release === 'function' || typeof candidate.escapeIdentifier === 'function';
};

/**
 * whether a failed heartbeat means the connection ended: the server ended the session (a FATAL
 * answer, such as `idle_session_timeout`'s, which comes before the connection's end) or the
 * connection failed. not an answer that is late (`unconfirmed`), nor an ordinary error.
 */
const endedConnection = (err: unknown): boolean => {
	if (!(err instanceof QueryFailure) || err.cause === undefined) return false;
	if (err.sqlState === undefined) return true;
	const { severity } = err.cause as { severity?: unknown };
	return severity === 'FATAL' || severity === 'PANIC';
};

/** a held name: its connection, and the values to put back of the settings `TRY_LOCK` changed. */
interface Held {
	client: PgPoolClient;
	restore: (string | null)[];
	/** when the `TRY_LOCK` that took it was sent. */
	sentAt: Moment;
}

/**
 * closes a connection instead of returning it to the pool: the server then frees every advisory
 * lock it held, so no pooled connection can keep one by mistake.
 */
const destroy = (client: PgPoolClient): void => {
	// closing may still emit an error; nobody else listens while it is checked out
	client.on('error', ignore);
	client.release(true);
};

/**
 * a `LockFunction` shared by every process that uses the same PostgreSQL database: each name is
 * a session-level advisory lock (`pg_try_advisory_lock` on a 64-bit key hashed from the name),
 * held on a connection checked out of `pool` for as long as the function runs. when the holder
 * dies, its connection closes and the server frees the lock at once. when it goes silent instead
 * (its host vanished without closing the connection, its process froze), the server ends its
 * session after `silentHolderMs` (PostgreSQL 14+; on older servers, TCP keepalives bound a vanished
 * host only); the heartbeat keeps a live holder's session from ever being idle that long. waiters
 * try again with exponential backoff and jitter, for a bounded time, holding no connection in
 * between.
 *
 * a lost connection ends the lock while the holder may still run (the server restarted, the
 * backend was terminated): it is reported through `onLeaseLost`, not prevented.
 */
export const createPostgresLock = (options: PostgresLockOptions): LockFunction => {
	const {
		pool,
		prefix = DEFAULT_LOCK_PREFIX,
		retryDelay = DEFAULT_RETRY_DELAY_MS,
		maxRetryDelay = DEFAULT_MAX_RETRY_DELAY_MS,
		timeout = DEFAULT_TIMEOUT_MS,
		heartbeatMs = DEFAULT_HEARTBEAT_MS,
		silentHolderMs = Math.min(MAX_TIMER_MS, SILENT_HOLDER_HEARTBEATS * heartbeatMs),
		onLeaseLost = warnLeaseLost,
	} = options ?? {};
	// by default a waiter outlasts a silent holder (its host vanished, its process froze), whose
	// session the server ends only after silentHolderMs: with a long heartbeat it would otherwise
	// fail with LockTimeoutError just before the lock is freed (as the Redis lock's `waitMs`). an
	// invalid silentHolderMs is refused below, by its own name
	const {
		waitMs = isTimerDelay(silentHolderMs)
			? Math.max(DEFAULT_WAIT_MS, silentHolderMs + SILENT_HOLDER_WAIT_MARGIN_MS)
			: DEFAULT_WAIT_MS,
	} = options ?? {};
	if (typeof (pool as Partial<PgPool> | undefined)?.connect !== 'function') {
		throw new TypeError('pool must be a node-postgres Pool (with a connect method)');
	}
	// a Client (which the store takes) has a connect method too, but one that connects itself
	// once and hands out nothing: every call after the first would fail, as if PostgreSQL were down
	if (isSingleConnection(pool)) {
		throw new TypeError(
			'pool must be a node-postgres Pool, not a Client: the lock holds a connection of its own per held name',
		);
	}
	if (typeof prefix !== 'string') throw new TypeError(`prefix must be a string, got ${typeof prefix}`);
	if (!(Number.isFinite(waitMs) && waitMs >= 0)) {
		throw new TypeError(`waitMs must be a non-negative number of milliseconds, got ${waitMs}`);
	}
	// each of these ends up in a timer, which fires after 1 ms for anything past MAX_TIMER_MS
	if (!isTimerDelay(retryDelay)) {
		throw new TypeError(
			`retryDelay must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${retryDelay}`,
		);
	}
	if (!(isTimerDelay(maxRetryDelay) && maxRetryDelay >= retryDelay)) {
		throw new TypeError(
			`maxRetryDelay must be a number of milliseconds of at least retryDelay and at most ${MAX_TIMER_MS}, got ${maxRetryDelay}`,
		);
	}
	if (!isTimerDelay(timeout)) {
		throw new TypeError(
			`timeout must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${timeout}`,
		);
	}
	if (!isTimerDelay(heartbeatMs)) {
		throw new TypeError(
			`heartbeatMs must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${heartbeatMs}`,
		);
	}
	// below these, a value is most likely seconds given for milliseconds: `heartbeatMs: 5` made the
	// server end a holder's session after 15 ms of event-loop work, and let a second holder in
	if (heartbeatMs < MIN_HEARTBEAT_MS) {
		throw new TypeError(
			`heartbeatMs is in milliseconds and at least ${MIN_HEARTBEAT_MS}, got ${heartbeatMs} (did you mean ${heartbeatMs * 1000}?)`,
		);
	}
	// idle_session_timeout and tcp_user_timeout take up to 2^31 - 1 ms, as a timer does
	if (!isTimerDelay(silentHolderMs)) {
		throw new TypeError(
			`silentHolderMs must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${silentHolderMs}`,
		);
	}
	if (options.silentHolderMs !== undefined && silentHolderMs < MIN_SILENT_HOLDER_MS) {
		throw new TypeError(
			`silentHolderMs is in milliseconds and at least ${MIN_SILENT_HOLDER_MS}, got ${silentHolderMs} (did you mean ${silentHolderMs * 1000}?)`,
		);
	}
	// a live holder's connection is idle for up to a heartbeat: the server must never end it
	if (silentHolderMs < MIN_SILENT_HOLDER_HEARTBEATS * heartbeatMs) {
		throw new TypeError(
			options.silentHolderMs === undefined
				? `heartbeatMs must be at most ${Math.floor(MAX_TIMER_MS / MIN_SILENT_HOLDER_HEARTBEATS)} ms (silentHolderMs, at most ${MAX_TIMER_MS}, must be at least ${MIN_SILENT_HOLDER_HEARTBEATS} × heartbeatMs), got ${heartbeatMs}`
				: `silentHolderMs must be at least ${MIN_SILENT_HOLDER_HEARTBEATS} × heartbeatMs (${MIN_SILENT_HOLDER_HEARTBEATS * heartbeatMs} ms), so that the server never ends a live holder's session between two heartbeats, got ${silentHolderMs}`,
		);
	}
	if (typeof onLeaseLost !== 'function') throw new TypeError('onLeaseLost must be a function');

	// what TRY_LOCK sets on a holder's connection ($2 to $6). idle_session_timeout, in ms, ends a
	// silent session whatever the cause. on a server without it: keepalives (whole seconds) that
	// end a vanished host's connection after about silentHolderMs (idle for half of it, then 3
	// probes a 6th of it apart), and tcp_user_timeout (ms), for data the host never acknowledged
	// (a heartbeat's answer sent as it vanished): while any is pending, the kernel sends no
	// keepalive probe (on Linux it also ends a connection whose probes go unanswered past it)
	const silentSeconds = Math.ceil(silentHolderMs / 1000);
	const bounds = [
		String(Math.ceil(silentHolderMs)),
		String(Math.ceil(silentSeconds / 2)),
		String(Math.ceil(silentSeconds / 6)),
		'3',
		String(Math.ceil(silentHolderMs)),
	];

	const unavailable = (name: string, err: unknown): never => {
		if (!(err instanceof QueryFailure)) throw err;
		// an ended pool is no passing condition: not transient, so a retry loop that follows
		// `transient` stops
		throw new LockUnavailableError(name, `lock "${name}" could not be acquired: ${err.message}`, {
			cause: err.cause,
			transient: !(err instanceof ClosedFailure),
		});
	};

	/**
	 * a connection of the pool, within `timeout` or the attempt's `deadline`, whichever comes
	 * first; one that comes after we gave up goes back.
	 */
	const checkOut = async (name: string, deadline: AttemptDeadline | undefined): Promise<PgPoolClient> => {
		let request: PoolConnect | undefined;
		try {
			return await runQuery(
				() => {
					request = connectFrom(pool);
					return request.connecting;
				},
				{ timeout, signal: deadline?.signal },
			);
		} catch (err) {
			// a request still waiting in the pool, which cannot withdraw it: counted, and bounded
			request?.abandon();
			request?.connecting.then((late) => late.release(), ignore);
			// every connection of the pool checked out or still connecting: pg-pool counts one it is
			// still opening as one of its own, so this is a full pool or a PostgreSQL that does not
			// answer, and the pool cannot tell which. say both, so that neither fix is hidden
			const size = poolSize(pool);
			if (
				err instanceof QueryFailure &&
				!(err instanceof PoolBackedUpFailure) &&
				err.sqlState === undefined &&
				err.cause === undefined &&
				size !== undefined
			) {
				throw new LockUnavailableError(
					name,
					`lock "${name}" could not be acquired: no connection of the pool within ${deadline?.ms ?? timeout} ms: all ${size} are in use or still connecting — PostgreSQL is not answering, or the pool is too small for the refreshes in flight (each held name keeps one; give the lock a pool of its own, or a larger max)`,
				);
			}
			return unavailable(name, err);
		}
	};

	/**
	 * tries once to take the lock on a connection of its own, bounding how long the server keeps
	 * that session once it goes silent; undefined if the name is busy.
	 */
	const tryAcquire = async (
		name: string,
		key: string,
		deadline: AttemptDeadline | undefined,
	): Promise<Held | undefined> => {
		const client = await checkOut(name, deadline);
		// a checked-out connection has no listener of the pool's: an error event would crash
		client.on('error', ignore);
		let answer: Record<string, unknown> | undefined;
		let sentAt = momentNow();
		try {
			const result = await runQuery(
				() => {
					sentAt = momentNow();
					return client.query({ text: TRY_LOCK, values: [key, ...bounds] });
				},
				{ timeout, signal: deadline?.signal },
			);
			answer = result.rows[0];
		} catch (err) {
			// the lock may have been taken (and the settings changed) after we gave up on the answer:
			// closing frees it. no cancel, unlike the store's statements: TRY_LOCK never waits on
			// another session (a try, not a blocking lock), and all it can do late ends with the
			// session, which ends as soon as the statement does (the connection is closed)
			destroy(client);
			return unavailable(name, err);
		}
		client.off('error', ignore);
		const row = answer;
		if (row?.acquired === 'false') {
			client.release();
			return undefined;
		}
		if (row?.acquired === 'read_only') {
			// nothing was taken or changed on the connection: it goes back as it is
			client.release();
			throw new LockUnavailableError(
				name,
				`lock "${name}" could not be acquired: the lock's connection is read-only (transaction_read_only is on: a standby, a primary demoted after a failover, or a read-only default of the lock's role or database), where a refresh could not store its new tokens`,
			);
		}
		if (row?.acquired === 'already_held') {
			destroy(client);
			throw new LockUnavailableError(
				name,
				`lock "${name}" could not be acquired: the connection's PostgreSQL session already holds it, for another client — a connection pooler in transaction mode (PgBouncer, say) between the lock and PostgreSQL? session-level advisory locks need a direct connection or session pooling`,
				{ transient: false },
			);
		}
		if (row?.acquired !== 'true') {
			// an answer that is neither: whether the lock was taken is unknown, and closing the
			// connection frees it if it was (a pooled connection would keep it for good)
			destroy(client);
			return undefined;
		}
		// what to put back on release: idle_session_timeout where the server has it, else the TCP
		// settings (a value the server did not give is not put back)
		const [idle, ...tcp] = BOUNDING_SETTINGS.map((setting) => {
			const value = row[setting];
			return typeof value === 'string' ? value : null;
		});
		const restore = typeof idle === 'string' ? [idle, ...tcp.map(() => null)] : [null, ...tcp];
		return { client, restore, sentAt };
	};

	/**
	 * takes the lock on a connection of its own, waiting for it at most `waitMs`; an attempt
	 * after the first may end up to `ANSWER_GRACE_MS` past it.
	 */
	const acquire = async (name: string, key: string): Promise<Held> => {
		const started = performance.now();
		for (let attempt = 0; ; attempt++) {
			// the first attempt (the only one with waitMs 0) gets `timeout` for each step, however
			// small `waitMs`: a slow first connection is not a busy name. a later one, begun while
			// waiting, must not hold the caller a whole timeout (or two) past `waitMs`: its connection
			// and its query share one deadline, the time left, or a moment if that is shorter
			const deadline =
				attempt === 0
					? undefined
					: attemptDeadline(attemptLimit(attempt, timeout, waitMs, performance.now() - started));
			let held: Held | undefined;
			try {
				held = await tryAcquire(name, key, deadline);
			} finally {
				deadline?.clear();
			}
			if (held !== undefined) return held;

			const remaining = waitMs - (performance.now() - started);
			if (remaining <= 0) throw new LockTimeoutError(name, waitMs);
			const step = Math.min(maxRetryDelay, retryDelay * 2 ** attempt);
			// equal jitter: waiters in several processes spread out, none polls faster than half a step
			await sleep(Math.min(remaining, step / 2 + (Math.random() * step) / 2));
		}
	};

	return async <T>(name: string, fn: (lost?: AbortSignal) => Promise<T>): Promise<T> => {
		if (typeof name !== 'string' || name === '') throw new TypeError('lock name must be a non-empty string');
		// UTF-8 turns half a surrogate pair into U+FFFD, so two such names would share one lock key
		if (hasLoneSurrogate(name)) {
			throw new TypeError('lock name must not hold a lone UTF-16 surrogate (half a surrogate pair)');
		}
		if (typeof fn !== 'function') throw new TypeError('fn must be a function');
		const key = lockKey(prefix + name);
		const held = await acquire(name, key);
		const { client, restore } = held;
		// the session surely is not ended as silent before silentHolderMs after the last statement
		// it answered was sent: the server went idle only once it had run it
		let confirmedAt = held.sentAt;
		// a loss reported does not stop the heartbeat: an unconfirmed lock may still be ours, and a
		// session left silent would be ended by its idle_session_timeout, losing it for sure. it
		// stops once the connection is gone, or the holder is done
		const holding = trackHolding<LeaseLostReason>(name, onLeaseLost, () => {});

		let done = false;
		let closed = false;
		// the server freed the lock when this connection ended (terminated backend, restart, network)
		const onClosed = (): void => {
			closed = true;
			clearInterval(heartbeat);
			if (!done) holding.lose('connection_lost');
		};
		client.on('error', onClosed);
		client.on('end', onClosed);

		let checking = false;
		const check = async (): Promise<void> => {
			if (checking || done || closed) return;
			checking = true;
			let sentAt = momentNow();
			try {
				await runQuery(
					() => {
						sentAt = momentNow();
						return client.query({ text: HEARTBEAT });
					},
					{ timeout },
				);
				confirmedAt = laterMoment(confirmedAt, sentAt);
			} catch (err) {
				// the server ended the session (idle_session_timeout, once the holder's event loop was
				// stuck longer than silentHolderMs; an administrator) or the connection failed: the lock
				// is gone, and so is the heartbeat's use. no answer in time on a connection that is still
				// open: it may be (reported once; the heartbeat goes on)
				const ended = closed || endedConnection(err);
				if (ended) clearInterval(heartbeat);
				// unconfirmed: reported, but the holder goes on (its signal is not aborted). the lock
				// goes only with the connection, which the server ends after silentHolderMs of silence;
				// an event loop stalled past `timeout` meets this with the answer already read off the wire
				if (!done) holding.lose(ended ? 'connection_lost' : 'unconfirmed', !ended);
			} finally {
				checking = false;
			}
		};
		const heartbeat = setInterval(() => void check(), heartbeatMs);
		// a held lock never keeps the process alive on its own
		heartbeat.unref?.();
		// an event loop that stalled past silentHolderMs (a long GC pause, a frozen VM or process, a
		// suspended laptop) has had its session ended by the server (idle_session_timeout), and the
		// lock maybe taken by another process; it resumes the holder from an I/O callback (a fetch's
		// answer) before the server's FATAL is read off the connection, and the holder's check of the
		// signal, right before it sends a refresh token, would find it not aborted. the connection
		// cannot be asked synchronously: read then, a session no answered statement shows alive for
		// silentHolderMs (counted from when that statement was sent) counts as lost. counted on the
		// wall clock too: a machine that slept (a suspended laptop) stopped the monotonic one, not
		// the server's idle_session_timeout. (a session ended otherwise during the stall, by
		// pg_terminate_backend or a restart, is heard of only once the connection is read)
		watchAborted(holding.signal, () => {
			if (!done && !closed && elapsedSince(confirmedAt) >= silentHolderMs) holding.lose('unconfirmed');
		});

		try {
			return await fn(holding.signal);
		} finally {
			done = true;
			clearInterval(heartbeat);
			client.off('end', onClosed);
			client.off('error', onClosed);
			if (holding.lost || closed) {
				destroy(client);
			} else {
				client.on('error', ignore);
				const unlock = async (): Promise<void> => {
					try {
						// the settings TRY_LOCK changed are put back in the same statement: a connection
						// whose unlock or reset failed is closed, never returned to the pool
						const result = await runQuery(() => client.query({ text: UNLOCK, values: [key, ...restore] }), {
							timeout,
						});
						if (result.rows[0]?.released === 'true') {
							client.off('error', ignore);
							client.release();
						} else {
							holding.lose('not_held');
							destroy(client);
						}
					} catch (err) {
						// with the database down or silent, closing the connection frees the lock. a
						// connection found ended here ended while fn ran, its 'end' not yet handled (fn
						// returned in the very turn a stall past silentHolderMs ended): the lock was
						// free meanwhile, and the holder must hear it, as from the heartbeat
						destroy(client);
						if (endedConnection(err)) holding.lose('connection_lost');
					}
				};
				// a silent database would hold the result for a whole query timeout: wait a moment,
				// then let the unlock (or the connection's close) finish on its own
				await settleWithin(unlock(), Math.min(timeout, RELEASE_WAIT_MS));
			}
		}
	};
};
