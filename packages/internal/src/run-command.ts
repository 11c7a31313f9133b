// shared by @atcute/oauth-store-redis and @atcute/oauth-lock-redis (each build inlines it): both
// must classify Redis failures (transient or not) and keep tokens out of errors the same way.
import type { Redis } from 'ioredis';

/**
 * Redis answers that mean "not now" rather than "never": a server loading its data, a read-only
 * replica after a failover, memory full, a busy script, a cluster reconfiguring, every connection
 * taken (`maxclients`: written on a new connection, which ioredis reads as its AUTH's reply).
 */
const TRANSIENT_REPLIES =
	/^(?:LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|OOM|NOREPLICAS|MISCONF|ERR max number of clients reached)\b/;

/**
 * Redis refusing a connection's setup for good: a wrong password or a disabled ACL user
 * (`WRONGPASS`; `ERR invalid password` before Redis 6), a password required or refused (`NOAUTH`,
 * an `AUTH` with none configured), a setup command the ACL or the server lacks (`NOPERM`,
 * `unknown command` or subcommand, `NOPROTO`), a client refused by protected mode (`DENIED`, on
 * every command).
 * any other reply there (`maxclients` reached, a server still loading) may pass.
 */
const SETUP_REFUSALS =
	/^(?:WRONGPASS|NOAUTH|NOPERM|NOPROTO|DENIED|ERR invalid password|ERR unknown (?:sub)?command|ERR AUTH <password> called without|ERR Client sent AUTH, but no password is set)/;

/** the part of Redis's "unknown command" reply that quotes the command's arguments. */
const QUOTED_ARGUMENTS = /, with args beginning with:.*$/s;

/** why a command did not give an answer. */
export class CommandFailure extends Error {
	constructor(
		/** whether retrying later may work. */
		readonly transient: boolean,
		message: string,
		options?: ErrorOptions,
	) {
		super(message, options);
	}
}

/**
 * the client's connection was closed for good: `quit()` or `disconnect()` was called, or ioredis
 * gave up reconnecting (its `retryStrategy` returned no delay). ioredis does not connect such a
 * client again by itself, so no later try can work (unless the app calls `connect()` again): not
 * transient, as a closed SQLite database is not. not a refusal either: Redis itself said nothing.
 */
export class ConnectionClosedFailure extends CommandFailure {
	constructor(message: string, options?: ErrorOptions) {
		super(false, message, options);
	}
}

/**
 * the client is in a mode where it sends only that mode's own commands: subscriber mode (RESP2,
 * after `subscribe()`) or MONITOR (a client from `monitor()`). no later try can work, and Redis
 * said nothing: the app gave the store or lock a client it uses for something else.
 */
export class ClientModeFailure extends CommandFailure {
	constructor(message: string, options?: ErrorOptions) {
		super(false, message, options);
	}
}

/** what ioredis (5 and 6, RESP2) rejects a command with on a client in subscriber mode. */
const SUBSCRIBER_MODE = 'Connection in subscriber mode, only subscriber commands may be used';
/** what ioredis rejects a command with on a `monitor()` client that is not yet `monitoring`. */
const MONITOR_MODE = "Connection is in monitoring mode, can't process commands.";

const subscriberMode =
	'the Redis client is in subscriber mode (subscribe() or psubscribe() was called on it), where it sends no other command: a store or lock needs a client of its own (redis.duplicate())';
const monitorMode =
	'the Redis client is in MONITOR mode (it came from monitor()), where it sends no other command: a store or lock needs a client of its own (redis.duplicate())';

/** what ioredis rejects a command with once the client is closed (`CONNECTION_CLOSED_ERROR_MSG`). */
const CONNECTION_CLOSED = 'Connection is closed.';

/** why no command can be sent, the same words wherever the closed client is found; `when`, if said. */
const closedForGood = (when = ''): string =>
	`the Redis connection was closed for good${when} (quit() or disconnect() was called, or ioredis gave up reconnecting)`;

/**
 * a copy of an ioredis error without its `command.args`: ioredis attaches the command's arguments
 * to reply and abort errors, and for a `SET` those are the session itself, tokens included.
 */
const redact = (err: unknown): Error => {
	if (!(err instanceof Error)) return new Error(String(err));
	// Redis quotes a command it does not know with its first arguments (an old server's GETDEL:
	// the OAuth state; a renamed SET: the session): the message keeps the command's name only
	const message = err.message.replace(QUOTED_ARGUMENTS, '');
	const copy = new Error(message);
	copy.name = err.name;
	// the stack starts with the message as it was: its first lines are rebuilt from the new one
	if (err.stack !== undefined) {
		const frames = err.stack.indexOf('\n    at ');
		copy.stack = `${err.name}: ${message}${frames === -1 ? '' : err.stack.slice(frames)}`;
	}
	const { code } = err as { code?: unknown };
	if (typeof code === 'string') Object.assign(copy, { code });
	return copy;
};

/**
 * Redis 6 wraps an error a script's command met in its own: `ERR Error running script (call to
 * f_…): @user_script:2: -OOM command not allowed …`. the wrapped reply decides, as Redis 7's does.
 */
const SCRIPT_ERROR = /^ERR Error running script\b.*?: -(?=[A-Z])/s;

/** the reply that says why: a script's command's own, else the whole message. */
const replyOf = (message: string): string => {
	const wrapped = SCRIPT_ERROR.exec(message);
	return wrapped === null ? message : message.slice(wrapped[0].length);
};

/** what ioredis threw, as a `CommandFailure` without the command's arguments. */
export const classify = (err: unknown): CommandFailure => {
	const cause = redact(err);
	// ioredis refused to send it, for as long as the client stays in that mode: not an outage
	if (cause.message === SUBSCRIBER_MODE) return new ClientModeFailure(subscriberMode, { cause });
	if (cause.message === MONITOR_MODE) return new ClientModeFailure(monitorMode, { cause });
	if (cause.name === 'ReplyError') {
		// Redis answered: with a passing condition (worth a retry later), or a refusal for good
		if (TRANSIENT_REPLIES.test(replyOf(cause.message))) {
			return new CommandFailure(true, `Redis refused for now: ${cause.message}`, { cause });
		}
		return new CommandFailure(false, `Redis refused the command: ${cause.message}`, { cause });
	}
	// no answer: the connection closed under the command (`runCommand` tells a client closed for
	// good apart, by its status), or ioredis gave up on the command while reconnecting
	return new CommandFailure(true, `Redis did not answer: ${cause.message}`, { cause });
};

/**
 * the failure of a command that ioredis rejected because the client closed for good under it (a
 * `quit()`, a `disconnect()`, or reconnection given up, while it waited for its answer), else
 * undefined. a command rejected with the same words while the client is still to reconnect is an
 * outage, which `classify` makes transient.
 */
const closedUnder = (redis: Redis, err: unknown): ConnectionClosedFailure | undefined => {
	if (redis.status !== 'end' || !(err instanceof Error) || err.message !== CONNECTION_CLOSED) {
		return undefined;
	}
	return new ConnectionClosedFailure(closedForGood(' before the command was answered'), {
		cause: redact(err),
	});
};

/**
 * whether ioredis would write a command now, by the test its own `sendCommand` makes. between a
 * dropped connection's `end` and `close` the status is still `ready` while the socket is closed
 * for writing: a command sent then goes to ioredis's offline queue, which it sends on reconnecting
 * whatever `autoResendUnfulfilledCommands` says, long after the store reported it failed.
 */
const canWrite = (redis: Redis): boolean => {
	if (redis.status !== 'ready') return false;
	const stream = redis.stream as (Redis['stream'] & { _writableState?: { ended?: boolean } }) | undefined;
	// a Cluster (which the lock takes) has no stream of its own: its status is all there is to go by
	if (stream === undefined || stream === null) return true;
	return stream.writable && stream._writableState?.ended !== true;
};

/**
 * whether `redis` was closed for good: its status is `end`, or it is an ioredis 5 client closed
 * (`disconnect()`, or `quit()` with nothing queued) while it waited to reconnect. ioredis 5 clears
 * the retry timer then but leaves the status at `reconnecting` and never emits `end` (ioredis 6
 * ends it): such a client never connects again by itself, and a command would wait for it in vain.
 * a client only reconnecting has its retry timer set, or is `connecting`, and was not closed by hand.
 */
const isClosedForGood = (redis: Redis): boolean => {
	if (redis.status === 'end') return true;
	if (redis.status !== 'reconnecting') return false;
	const client = redis as unknown as {
		isCluster?: unknown;
		manuallyClosing?: unknown;
		reconnectTimeout?: unknown;
	};
	return client.isCluster !== true && client.manuallyClosing === true && client.reconnectTimeout == null;
};

/**
 * how often a command waiting for a connection checks for a client closed without `end` (see
 * `isClosedForGood`), in milliseconds: nothing else tells it.
 */
const CLOSED_POLL_MS = 100;

/** a command waiting for its client to be ready. */
interface ReadyWaiter {
	resolve: () => void;
	reject: (err: Error) => void;
}

/**
 * the commands waiting for one client, and the last error the client reported meanwhile: a
 * refusal of the connection's own setup (a wrong password, an ACL user turned off, a ready check
 * whose `INFO` is disabled) is never a command's answer, and ioredis just reconnects for ever.
 */
interface ReadyWait extends Set<ReadyWaiter> {
	lastError?: unknown;
}

/**
 * the commands waiting for each client to be ready, behind one pair of listeners per client (so
 * listeners do not pile up). a waiter that gives up leaves the set: nothing of it stays behind
 * for as long as Redis is away (ioredis reconnects for ever by default), however many commands
 * gave up meanwhile.
 */
const readiness = new WeakMap<Redis, ReadyWait>();
/** what removes each set's listeners and poll (once its last waiter has left). */
const settlers = new WeakMap<ReadyWait, () => void>();

/** how many commands wait for `redis` to be ready now (for tests). */
export const readyWaitersOf = (redis: Redis): number => readiness.get(redis)?.size ?? 0;

/** waits for `redis` to be ready; `leave` withdraws the wait (call it once the wait is over). */
const whenReady = (redis: Redis): { ready: Promise<void>; leave: () => void; lastError: () => unknown } => {
	let waiters = readiness.get(redis);
	if (waiters === undefined) {
		const own: ReadyWait = new Set<ReadyWaiter>();
		const settle = (): void => {
			redis.off('ready', onReady);
			redis.off('end', onEnd);
			redis.off('error', onError);
			clearInterval(poll);
			readiness.delete(redis);
		};
		const onReady = (): void => {
			settle();
			for (const waiter of own) waiter.resolve();
		};
		const onEnd = (): void => {
			settle();
			// disconnect() while reconnecting, or reconnection given up: it will never be ready
			for (const waiter of own) waiter.reject(new ConnectionClosedFailure(closedForGood()));
		};
		// kept only while commands wait: what a deadline tells besides "not connected"
		const onError = (err: unknown): void => {
			own.lastError = err;
		};
		redis.once('ready', onReady);
		redis.once('end', onEnd);
		redis.on('error', onError);
		// ioredis 5 closed while reconnecting emits nothing (see isClosedForGood). unref'd: the
		// waiters' own deadlines hold the process, and none outlives them
		const poll = setInterval(() => {
			if (isClosedForGood(redis)) onEnd();
		}, CLOSED_POLL_MS);
		poll.unref?.();
		readiness.set(redis, own);
		settlers.set(own, settle);
		waiters = own;
	}
	const set = waiters;
	let waiter: ReadyWaiter | undefined;
	const ready = new Promise<void>((resolve, reject) => {
		waiter = { resolve, reject };
	});
	set.add(waiter!);
	return {
		ready,
		lastError: () => set.lastError,
		leave: () => {
			set.delete(waiter!);
			// the last waiter gone: nothing is left to tell (a later wait sets up anew)
			if (set.size === 0 && readiness.get(redis) === set) settlers.get(set)?.();
		},
	};
};

/**
 * rejects after `ms`, or when `signal` aborts; `clear` stops the timer. `unref`: the timer does not
 * keep the process alive.
 */
const deadline = (
	ms: number,
	failure: () => CommandFailure,
	signal: AbortSignal | undefined,
	unref: boolean,
) => {
	let timer: ReturnType<typeof setTimeout> | undefined;
	let onAbort: (() => void) | undefined;
	const promise = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(failure()), Math.max(0, ms));
		if (unref) timer.unref?.();
		if (signal !== undefined) {
			onAbort = () => reject(signal.reason);
			signal.addEventListener('abort', onAbort, { once: true });
		}
	});
	return {
		promise,
		clear: (): void => {
			clearTimeout(timer);
			if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
		},
	};
};

/**
 * why a client did not become ready in time. Redis refusing the connection's setup (`WRONGPASS`,
 * `NOAUTH`, a ready check's `INFO` unknown or renamed) is a deployment mistake that reconnecting
 * never fixes: it is told as a refusal, by Redis's own words (`SETUP_REFUSALS`), not as an outage
 * the app would retry for ever. any other reply (every connection taken, `maxclients`), or any
 * other error (no server, a TLS
 * certificate not trusted, a name that does not resolve) stays transient, as an outage may be,
 * but is named: "not connected" alone does not tell a wrong CA from a server down.
 */
const notConnected = (timeout: number, status: string, lastError: unknown): CommandFailure => {
	const message = `Redis was not connected within ${timeout} ms (status: ${status})`;
	if (!(lastError instanceof Error)) return new CommandFailure(true, message);
	const cause = redact(lastError);
	// only the refusals known to last are told so: an unknown one stays an outage, as before
	if (cause.name === 'ReplyError' && SETUP_REFUSALS.test(cause.message)) {
		return new CommandFailure(false, `${message}: it refused the connection: ${cause.message}`, {
			cause,
		});
	}
	return new CommandFailure(true, `${message}; the last connection attempt failed: ${cause.message}`, {
		cause,
	});
};

/** options for `runCommand`. */
export interface RunCommandOptions {
	/** milliseconds for the whole operation, waiting for a connection included. */
	timeout: number;
	/** aborts the wait (the command may still run). */
	signal?: AbortSignal | undefined;
	/**
	 * whether the deadline's timer may let the process exit; default false. only for a command
	 * nobody awaits: an awaited one whose timer let the process exit would never settle.
	 */
	unref?: boolean | undefined;
}

/**
 * sends a command only over a ready connection, waiting for one at most `timeout`, and gives up
 * on the answer at the same deadline. ioredis would otherwise queue commands while disconnected
 * and answer them minutes later (or never): a store must fail fast and typed instead. a command
 * that was never sent cannot run later; one that timed out after being sent still may.
 */
export const runCommand = async <T>(
	redis: Redis,
	options: RunCommandOptions,
	send: () => Promise<T>,
): Promise<T> => {
	const { timeout, signal, unref = false } = options;
	signal?.throwIfAborted();
	const started = performance.now();

	if (!canWrite(redis)) {
		if (isClosedForGood(redis)) throw new ConnectionClosedFailure(closedForGood());
		// a MONITOR client is never `ready` again: waiting for it would last the whole timeout
		// (ioredis's `RedisStatus` type does not list it, though its `setStatus` sets it)
		if ((redis.status as string) === 'monitoring') throw new ClientModeFailure(monitorMode);
		const { ready, leave, lastError } = whenReady(redis);
		// a lazyConnect client connects on its first command; we send none until it is ready
		if (redis.status === 'wait') redis.connect().catch(() => {});
		const wait = deadline(timeout, () => notConnected(timeout, redis.status, lastError()), signal, unref);
		try {
			await Promise.race([ready, wait.promise]);
		} finally {
			wait.clear();
			leave();
		}
	}

	let pending: Promise<T>;
	try {
		pending = send();
	} catch (err) {
		throw closedUnder(redis, err) ?? classify(err);
	}
	const wait = deadline(
		timeout - (performance.now() - started),
		() => new CommandFailure(true, `Redis did not answer within ${timeout} ms`),
		signal,
		unref,
	);
	try {
		return await Promise.race([pending, wait.promise]);
	} catch (err) {
		if (err instanceof CommandFailure || (signal?.aborted && err === signal.reason)) throw err;
		throw closedUnder(redis, err) ?? classify(err);
	} finally {
		wait.clear();
		// an answer that comes after we gave up is dropped, not left unhandled
		pending.catch(() => {});
	}
};
