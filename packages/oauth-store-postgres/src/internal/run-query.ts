/** SQLSTATE classes and codes that mean "not now" rather than "never". */
const TRANSIENT_STATES = /^(?:08|40|53|57|58)|^(?:55P03|55006|25006|25P03|25P04)$/;
/** a SQLSTATE: five digits or capital letters. */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/** why a query gave no answer. */
export class QueryFailure extends Error {
	constructor(
		/** whether retrying later may work. */
		readonly transient: boolean,
		/** the server's SQLSTATE, when the server answered with an error. */
		readonly sqlState: string | undefined,
		message: string,
		options?: ErrorOptions,
	) {
		super(message, options);
	}
}

/**
 * a pool or client the app closed: `pool.end()` was called, or `client.end()` on a `Client`. no
 * later try can work (node-postgres never opens them again), so it is not transient, as a closed
 * SQLite database is not.
 */
export class ClosedFailure extends QueryFailure {
	constructor(message: string, options?: ErrorOptions) {
		super(false, undefined, message, options);
	}
}

/**
 * what node-postgres throws for a pool or client that was closed, matched by its exact words: it
 * gives these errors no code to tell them by, and every other error without a SQLSTATE (a refused
 * or reset connection, a pool that could not connect) is an outage that may pass. (pg-pool's
 * `connect()` after `end()`; pg's `Client.query()` after `end()`.)
 */
const CLOSED_BY_APP = new Map([
	[
		'Cannot use a pool after calling end on the pool',
		'the pool was ended (pool.end() was called) and gives no connection any more',
	],
	[
		'Client was closed and is not queryable',
		'the client was closed (client.end() was called) and runs no statement any more',
	],
]);

/** the SQLSTATE of a node-postgres `DatabaseError` (it also has a `severity`), else undefined. */
const sqlStateOf = (err: unknown): string | undefined => {
	const { code, severity } = (err ?? {}) as { code?: unknown; severity?: unknown };
	return typeof code === 'string' && typeof severity === 'string' && SQLSTATE.test(code) ? code : undefined;
};

/**
 * a copy of a node-postgres error with its name, message, code and severity only. the server's
 * `detail` (e.g. "Failing row contains (…)", the whole session), `where`, `hint`,
 * `internalQuery` and the like can quote the values of the statement, tokens included.
 */
export const redact = (err: unknown): Error => {
	if (!(err instanceof Error)) return new Error(String(err));
	const copy = new Error(err.message);
	copy.name = err.name;
	if (err.stack !== undefined) copy.stack = err.stack;
	const { code, severity } = err as { code?: unknown; severity?: unknown };
	if (typeof code === 'string') Object.assign(copy, { code });
	if (typeof severity === 'string') Object.assign(copy, { severity });
	return copy;
};

/** turns what node-postgres threw into a `QueryFailure` whose cause holds no values. */
export const classify = (err: unknown): QueryFailure => {
	if (err instanceof QueryFailure) return err;
	const cause = redact(err);
	const sqlState = sqlStateOf(err);
	if (sqlState === undefined) {
		const closed = err instanceof Error ? CLOSED_BY_APP.get(err.message) : undefined;
		if (closed !== undefined) {
			return new ClosedFailure(closed, { cause });
		}
		// no answer from the server at all: refused, reset, closed, a pool that could not connect
		return new QueryFailure(true, undefined, `PostgreSQL could not be reached: ${cause.message}`, { cause });
	}
	const transient = TRANSIENT_STATES.test(sqlState);
	return new QueryFailure(
		transient,
		sqlState,
		`PostgreSQL ${transient ? 'could not serve' : 'refused'} the statement: ${cause.message} (SQLSTATE ${sqlState})`,
		{ cause },
	);
};

/** options for `runQuery`. */
export interface RunQueryOptions {
	/** milliseconds for the whole operation, waiting for a pool connection included. */
	timeout: number;
	/**
	 * the time limit a time-out names, when `timeout` is what is left of it (an operation's
	 * `timeout` spread over its statements); default `timeout`.
	 */
	limit?: number | undefined;
	/** aborts the wait (the query may still run). */
	signal?: AbortSignal | undefined;
}

/** why `signal` aborted: its reason, or an AbortError for a polyfill's signal, which may keep none. */
const abortReason = (signal: AbortSignal): unknown =>
	signal.reason ?? new DOMException('This operation was aborted', 'AbortError');

/**
 * runs `send`, giving up on it after `timeout` (a pool waiting for a free connection, a server
 * that accepted the query but does not answer) or when `signal` aborts; every failure but the
 * abort becomes a `QueryFailure`. a query given up on may still run later.
 */
export const runQuery = async <T>(send: () => Promise<T>, options: RunQueryOptions): Promise<T> => {
	const { timeout, signal, limit = timeout } = options;
	// not throwIfAborted: a polyfill's signal may lack it (see checkSignal)
	if (signal?.aborted) throw abortReason(signal);
	let timer: ReturnType<typeof setTimeout> | undefined;
	let onAbort: (() => void) | undefined;
	let aborted: { reason: unknown } | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(
			() => reject(new QueryFailure(true, undefined, `PostgreSQL did not answer within ${limit} ms`)),
			timeout,
		);
		if (signal !== undefined) {
			onAbort = () => {
				aborted = { reason: abortReason(signal) };
				reject(aborted.reason);
			};
			signal.addEventListener('abort', onAbort, { once: true });
		}
	});
	let pending: Promise<T> | undefined;
	try {
		pending = send();
		return await Promise.race([pending, deadline]);
	} catch (err) {
		if (aborted !== undefined && err === aborted.reason) throw err;
		throw classify(err);
	} finally {
		clearTimeout(timer);
		if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
		// an answer that comes after we gave up is dropped, not left unhandled
		pending?.catch(() => {});
	}
};
