import type { PgPool, PgPoolClient } from '../queryable.ts';
import { QueryFailure } from './run-query.ts';

/**
 * how many connection requests given up on may wait in one pool before calls are refused at once.
 * pg-pool cannot withdraw a request: without `connectionTimeoutMillis` it waits until a connection
 * frees up, however long PostgreSQL stays silent, and each holds a few kilobytes meanwhile. past
 * this many, a call fails at once rather than queue one more: memory in an outage no longer grows
 * with the calls made in it. (the requests of calls still waiting are not counted, since on a busy
 * but healthy pool they are served: so up to this many, plus the calls started within one
 * `timeout`, wait at most.)
 */
export const MAX_ABANDONED_CONNECTS = 1000;

/** a call refused at once: too many requests given up on still wait in the pool. */
export class PoolBackedUpFailure extends QueryFailure {
	constructor(waiting: number) {
		super(
			true,
			undefined,
			`no connection of the pool: ${waiting} requests for one, given up on, still wait in it (PostgreSQL is not answering, or the pool is too small; give the pool a connectionTimeoutMillis no longer than the store's or lock's timeout)`,
		);
	}
}

/** the requests given up on that still wait, per pool. */
const abandoned = new WeakMap<object, number>();

/** how many of `pool`'s connection requests were given up on and still wait (for tests). */
export const abandonedConnectsOf = (pool: object): number => abandoned.get(pool) ?? 0;

/**
 * what pg-pool's `connect()` throws once `end()` was called, word for word: `runQuery` reads it as
 * the pool closed by the app (not transient).
 */
const POOL_ENDED = 'Cannot use a pool after calling end on the pool';

/** how often a request waiting in a full pool checks whether the pool was ended, in milliseconds. */
const ENDED_POLL_MS = 100;

/**
 * whether a request made now would wait in `pool`'s queue: pg-pool opens a connection while it
 * has room, and queues a request only when every connection is checked out and it may open no more.
 */
const isFull = (pool: PgPool): boolean => {
	const { totalCount, idleCount, options } = pool as {
		totalCount?: unknown;
		idleCount?: unknown;
		options?: { max?: unknown };
	};
	return (
		typeof totalCount === 'number' &&
		typeof options?.max === 'number' &&
		idleCount === 0 &&
		totalCount >= options.max
	);
};

/** whether `end()` was called on `pool` (pg-pool's `ending`). */
const isEnding = (pool: PgPool): boolean => (pool as { ending?: unknown }).ending === true;

/** the queued requests of each pool an `end()` fails, behind one poll per pool. */
const queuedIn = new WeakMap<PgPool, Set<() => void>>();

/** calls `ended` once `end()` is called on `pool`; the returned function stops watching. */
const watchEnd = (pool: PgPool, ended: () => void): (() => void) => {
	let watchers = queuedIn.get(pool);
	if (watchers === undefined) {
		const own = new Set<() => void>();
		const poll = setInterval(() => {
			if (own.size > 0 && !isEnding(pool)) return;
			clearInterval(poll);
			if (queuedIn.get(pool) === own) queuedIn.delete(pool);
			for (const watcher of own) watcher();
			own.clear();
		}, ENDED_POLL_MS);
		(poll as { unref?: () => void }).unref?.();
		queuedIn.set(pool, own);
		watchers = own;
	}
	const set = watchers;
	set.add(ended);
	return () => void set.delete(ended);
};

/**
 * `asked`, a request queued in `pool`, failed as pg-pool fails a request made after `end()` once
 * `end()` is called (see above); one unref'd poll per pool, however many requests wait.
 */
const unlessEnded = (pool: PgPool, asked: Promise<PgPoolClient>): Promise<PgPoolClient> =>
	new Promise((resolve, reject) => {
		const stop = watchEnd(pool, () => {
			asked.then(
				(late) => late.release(),
				() => {},
			);
			reject(new Error(POOL_ENDED));
		});
		asked.then(
			(client) => {
				stop();
				resolve(client);
			},
			(err: unknown) => {
				stop();
				reject(err);
			},
		);
	});

/** a connection request of the pool, and what becomes of it once its caller gives up. */
export interface PoolConnect {
	/** the connection, or the failure to get one. */
	connecting: Promise<PgPoolClient>;
	/**
	 * the caller gave up before the request settled: it counts as given up on until it does. (the
	 * caller still gives back a connection that comes later.)
	 */
	abandon(): void;
}

/**
 * asks `pool` for a connection, unless `MAX_ABANDONED_CONNECTS` requests given up on still wait in
 * it: then it fails at once, transient, saying why (and what to set).
 */
export const connectFrom = (pool: PgPool): PoolConnect => {
	const waiting = abandoned.get(pool) ?? 0;
	if (waiting >= MAX_ABANDONED_CONNECTS) {
		const refused = Promise.reject(new PoolBackedUpFailure(waiting));
		return { connecting: refused, abandon: () => {} };
	}
	let settled = false;
	let late = false;
	// only a request that waits in the queue is watched: one served at once (a free or new
	// connection) needs no timer
	const queued = isFull(pool);
	const asked = pool.connect();
	const connecting = queued ? unlessEnded(pool, asked) : asked;
	connecting.then(
		() => settle(),
		() => settle(),
	);
	const settle = (): void => {
		settled = true;
		if (late) abandoned.set(pool, (abandoned.get(pool) ?? 1) - 1);
	};
	return {
		connecting,
		abandon: () => {
			if (settled || late) return;
			late = true;
			abandoned.set(pool, (abandoned.get(pool) ?? 0) + 1);
		},
	};
};
