import type { PgPool, PgPoolClient, PgQuery, PgQueryable, PgQueryResult, PgRow } from '../queryable.ts';
import { canCancel } from './cancel-statement.ts';
import { cancelUntilSettled } from './cancel-until-settled.ts';
import { connectFrom, type PoolConnect } from './pool-connect.ts';
import { resetConnection } from './reset-connection.ts';
import { QueryFailure, type RunQueryOptions, runQuery } from './run-query.ts';

const ignore = () => {};

/** a node-postgres `Pool` (pg-pool): it checks connections out, and counts them. */
const isPgPool = (queryable: PgQueryable): queryable is PgQueryable & PgPool =>
	typeof (queryable as Partial<PgPool>).connect === 'function' &&
	typeof (queryable as { totalCount?: unknown }).totalCount === 'number';

/**
 * sends one statement, its answer due within `timeout`, the wait for a connection included; every
 * failure but an abort is a `QueryFailure`, as with `runQuery`.
 *
 * a pg-pool `Pool`'s own `query` queues a statement that finds no free connection and sends it
 * whenever one frees up, even after its caller was told it failed: a write then lands after newer
 * ones, and a `take` uses up a state whose caller tries again. so from a `Pool` the connection is
 * checked out here, and one that comes after the deadline goes back with nothing sent on it; a
 * statement given up on is cancelled on the server (see `cancelUntilSettled`), in the background,
 * and its connection then closed. a `Client` (or
 * anything else with `query`) has one connection of its own, and gets the statement as it is: no
 * cancel, since its next statement, perhaps the app's own, could be the one a late cancel stops.
 */
export const queryWithin = async <R extends PgRow>(
	queryable: PgQueryable,
	query: PgQuery,
	options: RunQueryOptions,
): Promise<PgQueryResult<R>> => {
	if (!isPgPool(queryable)) return runQuery(() => queryable.query<R>(query), options);

	let gaveUp = false;
	let request: PoolConnect | undefined;
	let client: PgPoolClient | undefined;
	let sent: Promise<PgQueryResult<R>> | undefined;
	let answered = false;
	try {
		const result = await runQuery(async () => {
			request = connectFrom(queryable);
			const checkedOut = await request.connecting;
			if (gaveUp) {
				// too late: nothing is sent, and the connection is free for the next caller
				checkedOut.release();
				throw new Error('the statement was given up on before a connection came');
			}
			client = checkedOut;
			// a checked-out connection has no listener of the pool's: an error event would crash
			client.on('error', ignore);
			sent = client.query<R>(query);
			return sent;
		}, options);
		answered = true;
		return result;
	} catch (err) {
		// the server answered with an error: the connection is as good as before
		if (err instanceof QueryFailure && err.sqlState !== undefined) answered = true;
		throw err;
	} finally {
		gaveUp = true;
		// a request still waiting in the pool, which cannot withdraw it: counted, and bounded
		request?.abandon();
		if (client !== undefined) {
			if (answered) {
				client.off('error', ignore);
				client.release();
			} else {
				// given up on (time limit, abort) or broken: the statement may still be running on
				// it, so it is closed rather than handed to the next caller
				const given = client;
				const config = (queryable as { options?: unknown }).options;
				// reset, not ended: what a silent path holds of the statement must never run later
				const discard = (): void => {
					resetConnection(given);
					given.release(true);
				};
				if (sent === undefined || !canCancel(given, config)) {
					discard();
				} else {
					// and cancelled first, or a backend waiting on a row lock (which does not see its
					// client leave) would still write later. the connection stays checked out until
					// the statement ends: a pooler (PgBouncer) forwards a cancel only for an open
					// client connection, and a cancel that comes before the statement is dropped, so
					// it is sent again. ours alone, nothing else is ever sent on it: the cancel (which
					// names the backend, not a statement) can stop only our statement, or nothing.
					// not awaited: the caller fails at its deadline as before
					void cancelUntilSettled(given, config, sent).then(discard).catch(ignore);
				}
			}
		}
	}
};
