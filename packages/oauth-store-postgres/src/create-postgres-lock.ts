import { type LockFunction, LockTimeoutError, LockUnavailableError } from '@atcute/oauth-client';
import { attemptLimit } from '@atcute-oauth/internal/attempt-limit';
import { trackHolding, warnLeaseLost } from '@atcute-oauth/internal/lease-loss';
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
} from './constants.ts';
import type { LeaseLostEvent, LeaseLostReason } from './errors.ts';
import { lockKey } from './internal/lock-key.ts';
import { QueryFailure, runQuery } from './internal/run-query.ts';
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
	 * default 30 000, longer than a refresh can take. 0: try once. the first attempt gets `timeout`
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
	/** how often a holder checks its connection with `SELECT 1`, in milliseconds; default 5 000. */
	heartbeatMs?: number | undefined;
	/**
	 * called when a holder finds its lock lost while it still runs (see `LeaseLostEvent`): another
	 * process may have held the same name at the same time. default: a process warning
	 * (`LeaseLostWarning`). the holder's result is returned all the same.
	 */
	onLeaseLost?: ((event: LeaseLostEvent) => void) | undefined;
}

const TRY_LOCK = 'SELECT pg_try_advisory_lock($1::bigint) AS acquired';
const UNLOCK = 'SELECT pg_advisory_unlock($1::bigint) AS released';
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
 * dies, its connection closes and the server frees the lock at once: no lease to wait out.
 * waiters try again with exponential backoff and jitter, for a bounded time, holding no
 * connection in between.
 *
 * a lost connection ends the lock while the holder may still run (the server restarted, the
 * backend was terminated): it is reported through `onLeaseLost`, not prevented.
 */
export const createPostgresLock = (options: PostgresLockOptions): LockFunction => {
	const {
		pool,
		prefix = DEFAULT_LOCK_PREFIX,
		waitMs = DEFAULT_WAIT_MS,
		retryDelay = DEFAULT_RETRY_DELAY_MS,
		maxRetryDelay = DEFAULT_MAX_RETRY_DELAY_MS,
		timeout = DEFAULT_TIMEOUT_MS,
		heartbeatMs = DEFAULT_HEARTBEAT_MS,
		onLeaseLost = warnLeaseLost,
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
	if (typeof onLeaseLost !== 'function') throw new TypeError('onLeaseLost must be a function');

	const unavailable = (name: string, err: unknown): never => {
		if (!(err instanceof QueryFailure)) throw err;
		throw new LockUnavailableError(name, `lock "${name}" could not be acquired: ${err.message}`, {
			cause: err.cause,
		});
	};

	/**
	 * a connection of the pool, within `timeout` or the attempt's `deadline`, whichever comes
	 * first; one that comes after we gave up goes back.
	 */
	const checkOut = async (name: string, deadline: AttemptDeadline | undefined): Promise<PgPoolClient> => {
		let connecting: Promise<PgPoolClient> | undefined;
		try {
			return await runQuery(() => (connecting = pool.connect()), { timeout, signal: deadline?.signal });
		} catch (err) {
			connecting?.then((late) => late.release(), ignore);
			// every connection of the pool checked out or still connecting: pg-pool counts one it is
			// still opening as one of its own, so this is a full pool or a PostgreSQL that does not
			// answer, and the pool cannot tell which. say both, so that neither fix is hidden
			const size = poolSize(pool);
			if (
				err instanceof QueryFailure &&
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

	/** tries once to take the lock on a connection of its own; undefined if the name is busy. */
	const tryAcquire = async (
		name: string,
		key: string,
		deadline: AttemptDeadline | undefined,
	): Promise<PgPoolClient | undefined> => {
		const client = await checkOut(name, deadline);
		// a checked-out connection has no listener of the pool's: an error event would crash
		client.on('error', ignore);
		let acquired: boolean;
		try {
			const result = await runQuery(() => client.query({ text: TRY_LOCK, values: [key] }), {
				timeout,
				signal: deadline?.signal,
			});
			acquired = result.rows[0]?.acquired === true;
		} catch (err) {
			// the lock may have been taken after we gave up on the answer: closing frees it
			destroy(client);
			return unavailable(name, err);
		}
		client.off('error', ignore);
		if (acquired) return client;
		client.release();
		return undefined;
	};

	/**
	 * takes the lock on a connection of its own, waiting for it at most `waitMs`; an attempt
	 * after the first may end up to `ANSWER_GRACE_MS` past it.
	 */
	const acquire = async (name: string, key: string): Promise<PgPoolClient> => {
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
			let client: PgPoolClient | undefined;
			try {
				client = await tryAcquire(name, key, deadline);
			} finally {
				deadline?.clear();
			}
			if (client !== undefined) return client;

			const remaining = waitMs - (performance.now() - started);
			if (remaining <= 0) throw new LockTimeoutError(name, waitMs);
			const step = Math.min(maxRetryDelay, retryDelay * 2 ** attempt);
			// equal jitter: waiters in several processes spread out, none polls faster than half a step
			await sleep(Math.min(remaining, step / 2 + (Math.random() * step) / 2));
		}
	};

	return async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
		if (typeof name !== 'string' || name === '') throw new TypeError('lock name must be a non-empty string');
		if (typeof fn !== 'function') throw new TypeError('fn must be a function');
		const key = lockKey(prefix + name);
		const client = await acquire(name, key);
		const holding = trackHolding<LeaseLostReason>(name, onLeaseLost, () => clearInterval(heartbeat));

		let done = false;
		let closed = false;
		// the server freed the lock when this connection ended (terminated backend, restart, network)
		const onClosed = (): void => {
			closed = true;
			if (!done) holding.lose('connection_lost');
		};
		client.on('error', onClosed);
		client.on('end', onClosed);

		let checking = false;
		const check = async (): Promise<void> => {
			if (checking || done || holding.lost) return;
			checking = true;
			try {
				await runQuery(() => client.query({ text: HEARTBEAT }), { timeout });
			} catch {
				// no answer in time on a connection that is still open: the lock may be gone
				if (!done) holding.lose(closed ? 'connection_lost' : 'unconfirmed');
			} finally {
				checking = false;
			}
		};
		const heartbeat = setInterval(() => void check(), heartbeatMs);
		// a held lock never keeps the process alive on its own
		heartbeat.unref?.();

		try {
			return await fn();
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
						const result = await runQuery(() => client.query({ text: UNLOCK, values: [key] }), { timeout });
						if (result.rows[0]?.released === true) {
							client.off('error', ignore);
							client.release();
						} else {
							holding.lose('not_held');
							destroy(client);
						}
					} catch {
						// with the database down or silent, closing the connection frees the lock
						destroy(client);
					}
				};
				// a silent database would hold the result for a whole query timeout: wait a moment,
				// then let the unlock (or the connection's close) finish on its own
				await settleWithin(unlock(), Math.min(timeout, RELEASE_WAIT_MS));
			}
		}
	};
};
