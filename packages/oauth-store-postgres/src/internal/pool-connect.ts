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
	const connecting = pool.connect();
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
