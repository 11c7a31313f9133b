import {
	LOCK_WAIT_MS,
	type LockFunction,
	LockTimeoutError,
	LockUnavailableError,
} from '@atcute/oauth-client';
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
import { registerKeyspace } from '@atcute-oauth/internal/redis-keyspaces';
import { CommandFailure, ConnectionClosedFailure, runCommand } from '@atcute-oauth/internal/run-command';
import { settleWithin } from '@atcute-oauth/internal/settle-within';
import { isTimerDelay, MAX_TIMER_MS } from '@atcute-oauth/internal/timer-delay';
import type { Redis } from 'ioredis';
import {
	DEFAULT_COMMAND_TIMEOUT_MS,
	DEFAULT_LEASE_MS,
	DEFAULT_MAX_RETRY_DELAY_MS,
	DEFAULT_PREFIX,
	DEFAULT_RETRY_DELAY_MS,
	RELEASE_WAIT_MS,
	WAIT_MARGIN_MS,
} from './constants.ts';
import type { LeaseLostEvent, LeaseLostReason } from './errors.ts';
import { ACQUIRE_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT } from './internal/scripts.ts';

/** options for `createRedisLock`. */
export interface RedisLockOptions {
	/** the ioredis client. the lock only sends commands: it never connects, quits or listens on it. */
	redis: Redis;
	/** prepended to each lock name to make its key; default `oauth-lock:`. */
	prefix?: string | undefined;
	/**
	 * how long a lease lasts without renewal, in milliseconds; default 30 000. an integer from 2
	 * up to `Number.MAX_SAFE_INTEGER`. it bounds how long a crashed holder keeps the name; a live
	 * holder renews it.
	 */
	leaseMs?: number | undefined;
	/**
	 * how often a holder renews its lease, in milliseconds; default a third of `leaseMs`, at most
	 * 2^31 - 1 (about 24.8 days, a timer's longest delay). positive, less than `leaseMs`, and at
	 * most 2^31 - 1.
	 */
	renewMs?: number | undefined;
	/**
	 * how long to wait for a busy name before failing with `LockTimeoutError`, in milliseconds;
	 * default `leaseMs` + 5 000, so a waiter outlasts a crashed holder's lease, and at least `LOCK_WAIT_MS` of `@atcute/oauth-client` (90 000),
	 * so it outlasts a live holder's refresh whose requests are each tried once. 0: try once. the
	 * first `SET` gets the whole `timeout` for its answer, whatever `waitMs` is; a later one gets
	 * the time left of `waitMs`, or 1 s if less is left, never more than `timeout`. so a Redis that
	 * stops answering fails the call with `LockUnavailableError` by the later of `waitMs` + 1 s
	 * (or + `timeout`, if shorter) and the first `SET`'s `timeout`.
	 */
	waitMs?: number | undefined;
	/** the first delay between attempts while waiting, in milliseconds; default 25. it doubles each time, with jitter. */
	retryDelay?: number | undefined;
	/** the longest delay between attempts, in milliseconds; default 500. at least `retryDelay`. */
	maxRetryDelay?: number | undefined;
	/** how long one Redis command may take, waiting for a connection included, in milliseconds; default 5 000. */
	timeout?: number | undefined;
	/**
	 * called when a holder finds its lease lost while it still runs (see `LeaseLostEvent`): another
	 * process may have held the same name at the same time. default: a process warning
	 * (`LeaseLostWarning`). the holder's result is returned all the same.
	 */
	onLeaseLost?: ((event: LeaseLostEvent) => void) | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * whether Redis refused a command for good (an ACL, a script error): trying again will not help.
 * a client closed for good is not transient either, but no refusal: a lease it can no longer renew
 * or release runs out by itself, as when Redis is unreachable.
 */
const isRefusal = (err: unknown): boolean =>
	err instanceof CommandFailure && !err.transient && !(err instanceof ConnectionClosedFailure);

/**
 * a `LockFunction` shared by every process that uses the same Redis: each name is a lease
 * (`SET key token PX lease` if the key is free, in a script) with a random owner token, renewed
 * while held and released only by its owner (compare-and-delete), so a crashed holder's lease
 * runs out by itself. waiters retry with exponential backoff and jitter, for a bounded time.
 *
 * a lease is not a fence: a holder stalled longer than a lease (a long GC pause, a frozen VM)
 * can run while another holds the name. it is reported through `onLeaseLost`, not prevented.
 */
export const createRedisLock = (options: RedisLockOptions): LockFunction => {
	const {
		redis,
		prefix = DEFAULT_PREFIX,
		leaseMs = DEFAULT_LEASE_MS,
		retryDelay = DEFAULT_RETRY_DELAY_MS,
		maxRetryDelay = DEFAULT_MAX_RETRY_DELAY_MS,
		timeout = DEFAULT_COMMAND_TIMEOUT_MS,
		onLeaseLost = warnLeaseLost,
	} = options ?? {};
	if (typeof redis?.set !== 'function' || typeof redis.eval !== 'function') {
		throw new TypeError('redis must be an ioredis client (new Redis(...))');
	}
	if (typeof prefix !== 'string') {
		throw new TypeError(`prefix must be a string, got ${typeof prefix}`);
	}
	// Redis takes any such PX; past 2^53 a number is no longer an exact integer
	if (!(Number.isSafeInteger(leaseMs) && leaseMs > 0)) {
		throw new TypeError(
			`leaseMs must be a positive integer number of milliseconds up to ${Number.MAX_SAFE_INTEGER}, got ${leaseMs}`,
		);
	}
	// renewals come at an interval below the lease, which 1 ms leaves no room for
	if (leaseMs < 2) {
		throw new TypeError(
			`leaseMs must be at least 2 milliseconds (it is renewed more often than it lasts), got ${leaseMs}`,
		);
	}
	// a third of the lease, but never past a timer's longest delay: a lease may be up to 2^53 ms,
	// and a longer interval would fire every millisecond (so it is refused when given)
	const {
		renewMs = Math.min(Math.max(1, Math.floor(leaseMs / 3)), MAX_TIMER_MS),
		waitMs = Math.max(leaseMs + WAIT_MARGIN_MS, LOCK_WAIT_MS),
	} = options;
	if (!(isTimerDelay(renewMs) && renewMs < leaseMs)) {
		throw new TypeError(
			`renewMs (default leaseMs / 3) must be a positive number of milliseconds below leaseMs and at most ${MAX_TIMER_MS}, got ${renewMs}`,
		);
	}
	if (!(Number.isFinite(waitMs) && waitMs >= 0)) {
		throw new TypeError(`waitMs must be a non-negative number of milliseconds, got ${waitMs}`);
	}
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
	// each command's deadline is a timer too
	if (!isTimerDelay(timeout)) {
		throw new TypeError(
			`timeout must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${timeout}`,
		);
	}
	if (typeof onLeaseLost !== 'function') {
		throw new TypeError('onLeaseLost must be a function');
	}

	/**
	 * one command within `limit` (default `timeout`). `background`: nobody awaits it (a renewal,
	 * a late release), so its deadline must not keep the process alive: an app that disconnects
	 * Redis while Redis is away would otherwise wait out the whole timeout to exit.
	 */
	const run = <T>(
		send: () => Promise<T>,
		{ limit = timeout, background = false }: { limit?: number; background?: boolean } = {},
	): Promise<T> => runCommand(redis, { timeout: limit, unref: background }, send);

	/**
	 * takes the lease, waiting for it at most `waitMs` (an attempt after the first may end up to
	 * `ANSWER_GRACE_MS` past it); returns when the attempt that took it was sent.
	 */
	const acquire = async (name: string, key: string, token: string): Promise<Moment> => {
		const started = performance.now();
		for (let attempt = 0; ; attempt++) {
			let sentAt: Moment | undefined;
			let reply: unknown;
			// the first attempt gets the whole `timeout`; a later one, sent while waiting, the time
			// left (or a moment): it must not hold the caller a whole command timeout past `waitMs`
			const limit = attemptLimit(attempt, timeout, waitMs, performance.now() - started);
			try {
				// a SET NX that ran but whose answer was lost with the connection is sent again by
				// ioredis once it reconnects: the script takes a key that holds our token as ours,
				// where a plain SET NX answers nil and the holder would wait out its own lease
				reply = await run(
					() => {
						sentAt = momentNow();
						return redis.eval(ACQUIRE_SCRIPT, 1, key, token, leaseMs);
					},
					{ limit },
				);
			} catch (err) {
				if (!(err instanceof CommandFailure)) throw err;
				if (sentAt !== undefined) {
					// the script may still run after we gave up on it: queued behind it on the same
					// connection, this frees a lease nobody would hold
					redis.eval(RELEASE_SCRIPT, 1, key, token).catch(() => {});
				}
				// a refusal (an ACL without EVAL or SET, say) is no passing condition: not transient;
				// nor is a client closed for good (quit() or disconnect(), or reconnection given up)
				throw new LockUnavailableError(name, `lock "${name}" could not be acquired: ${err.message}`, {
					cause: err.cause,
					transient: err.transient,
				});
			}
			if (Number(reply) === 1) return sentAt!;

			const remaining = waitMs - (performance.now() - started);
			if (remaining <= 0) throw new LockTimeoutError(name, waitMs);
			const step = Math.min(maxRetryDelay, retryDelay * 2 ** attempt);
			// equal jitter: waiters spread out, and none polls faster than half a step
			await sleep(Math.min(remaining, step / 2 + (Math.random() * step) / 2));
		}
	};

	/** the loss a "not ours" answer of the renew or release script says: -1 another's key, 0 none. */
	const lossOf = (reply: unknown): LeaseLostReason => (Number(reply) === -1 ? 'taken' : 'expired');

	/** what a renewal that was not sent (the holder was done) gives instead of Redis's answer. */
	const SKIPPED = Symbol('skipped');

	const lock: LockFunction = async <T>(name: string, fn: (lost?: AbortSignal) => Promise<T>): Promise<T> => {
		if (typeof name !== 'string' || name === '') {
			throw new TypeError('lock name must be a non-empty string');
		}
		// keys go to Redis as UTF-8, which turns half a surrogate pair into U+FFFD: two such names
		// would share one lease
		if (hasLoneSurrogate(name)) {
			throw new TypeError('lock name must not hold a lone UTF-16 surrogate (half a surrogate pair)');
		}
		if (typeof fn !== 'function') {
			throw new TypeError('fn must be a function');
		}
		const key = prefix + name;
		// the owner token: only the holder that set it may renew or release the lease
		const token = globalThis.crypto.randomUUID();
		// the lease surely lasts until leaseMs after the last confirmed acquisition or renewal was
		// sent: its SET or PEXPIRE ran later. on both clocks: the check made when the holder's signal
		// is read counts on whichever says more (the timers below, on the monotonic one)
		let confirmed = await acquire(name, key, token);
		// reporting a loss does not stop the renewal: an unconfirmed lease may still be ours, and
		// must not run out under the holder once Redis answers again (stopped below when it is not)
		const holding = trackHolding<LeaseLostReason>(name, onLeaseLost, () => {});

		let done = false;
		let renewing = false;
		let ours = true;
		// whether the release found the key still ours: then the lease lasted the whole holding
		let kept = false;
		/**
		 * a "not ours" answer that came once the holder was done: a loss while it held the name when
		 * the lease should still have run then (the key evicted, or lost in a restart or failover,
		 * and maybe taken by another process). later than that, the lease may have run out after
		 * the holder was done, which is no loss (the end-of-holding check covers a late holder).
		 */
		const notOursAfterDone = (reply: unknown): void => {
			if (!kept && performance.now() < confirmed.mono + leaseMs) {
				holding.lose(lossOf(reply));
			}
		};
		// when the first renewal since the last confirmed one was sent, while none is confirmed
		let triedAt: number | undefined;
		const renew = async (): Promise<void> => {
			if (renewing || done || !ours) return;
			renewing = true;
			const sent = momentNow();
			triedAt ??= sent.mono;
			try {
				// one that waited for a connection past the holder's end is not sent: it would give a
				// lease nobody holds a fresh leaseMs, and keep waiters out of a free name
				const reply = await run(
					() => (done ? Promise.resolve(SKIPPED) : redis.eval(RENEW_SCRIPT, 1, key, token, leaseMs)),
					{ background: true },
				);
				if (reply === SKIPPED) return;
				if (Number(reply) === 1) {
					// counted even once the holder is done: its last stretch may need it (see below)
					confirmed = laterMoment(confirmed, sent);
					triedAt = undefined;
					return;
				}
				// sent while the holder ran, answered after: the release may not have run (Redis away)
				if (done) return notOursAfterDone(reply);
				// the key is gone or another's: there is nothing left to renew
				ours = false;
				clearInterval(renewal);
				holding.lose(lossOf(reply));
			} catch (err) {
				// refused (an ACL, a script error): the lease cannot be kept, tell it at once. Redis
				// unreachable: report it once the lease may have run out (once per holding), and go
				// on trying either way: a renewal that gets through while the key is ours keeps it
				if (!done && (isRefusal(err) || performance.now() - confirmed.mono >= leaseMs)) {
					holding.lose('unconfirmed');
				}
			} finally {
				renewing = false;
			}
		};
		const renewal = setInterval(() => void renew(), renewMs);
		// a held lock never keeps the process alive on its own
		renewal.unref?.();

		// a renewal may wait up to `timeout` for its answer, longer than the lease has left: the
		// holder is told when the lease runs out unconfirmed, not only when the renewal gives up.
		// (with no renewal sent in time, the event loop was blocked: the next renewal's answer tells)
		let watch: ReturnType<typeof setTimeout> | undefined;
		const watchLease = (): void => {
			if (done || !ours || holding.lost) return;
			const left = confirmed.mono + leaseMs - performance.now();
			if (left <= 0 && triedAt !== undefined && triedAt < confirmed.mono + leaseMs) {
				holding.lose('unconfirmed');
				return;
			}
			watch = setTimeout(watchLease, left > 0 ? Math.min(left, MAX_TIMER_MS) : renewMs);
			watch.unref?.();
		};
		watchLease();
		// an event loop that stalled past the lease (a long GC pause, a frozen VM or process, a
		// suspended laptop) resumes the holder from an I/O callback (a fetch's answer) before the
		// overdue renewal and lease watch run: its check of the signal, right before it sends a
		// refresh token, would find it not aborted while another process may hold the name. Redis
		// cannot be asked synchronously: read then, a lease no renewal confirmed for a whole lease
		// (counted from when the confirmed one was sent) counts as lost. counted on the wall clock
		// too: a machine that slept (a suspended laptop) stopped the monotonic one, not Redis's lease
		watchAborted(holding.signal, () => {
			if (!done && elapsedSince(confirmed) >= leaseMs) holding.lose('unconfirmed');
		});

		try {
			return await fn(holding.signal);
		} finally {
			const finishedAt = performance.now();
			done = true;
			clearInterval(renewal);
			clearTimeout(watch);
			const onReleaseFailed = (err: unknown): void => {
				// unreachable: the lease runs out by itself. refused: the name stays blocked for the
				// rest of the lease after every holding, and nothing could say it was ours
				if (isRefusal(err)) holding.lose('unconfirmed');
			};
			/**
			 * the release; `late`: sent only once Redis is back, maybe after the lease ran out, and
			 * awaited by nobody (the other is waited for a moment, by `settleWithin`'s own timer).
			 */
			const release = (late: boolean) =>
				run(() => redis.eval(RELEASE_SCRIPT, 1, key, token), { background: late }).then((reply) => {
					// a number, or its text with ioredis' stringNumbers
					if (Number(reply) === 1) kept = true;
					// sent as the holder ended, "not ours" was a loss while it held the name
					else if (late) notOursAfterDone(reply);
					else holding.lose(lossOf(reply));
				}, onReleaseFailed);
			if (redis.status === 'ready') {
				// a connection that dropped unnoticed (the status still 'ready') would hold the result
				// for a whole command timeout: wait a moment, then let the release finish on its own
				await settleWithin(release(false), Math.min(timeout, RELEASE_WAIT_MS));
			} else {
				// Redis away: the result is not held back for it. the release goes once Redis is back
				// (within timeout): it frees the name at once, and its answer tells whether the key was
				// lost while the lease should have run
				void release(true);
			}
			// nothing confirmed the lease during the holder's last leaseMs, and the release did not
			// (skipped, failed, or not answered yet): another process may have held the name meanwhile
			if (!kept && finishedAt - confirmed.mono >= leaseMs) holding.lose('unconfirmed');
		}
	};
	// known to this process's Redis stores on the server: a store's clear() must not sweep the
	// leases, nor may a store keep its sessions under the keys of their session locks
	registerKeyspace(redis, 'lock', prefix, lock);
	return lock;
};
