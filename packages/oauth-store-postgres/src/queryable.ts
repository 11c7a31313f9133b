// no type comes from `pg`: it ships none (they are in `@types/pg`), so a user without
// `@types/pg` would get TS7016 from our d.ts, or with `skipLibCheck` a `query` that returns `any`.
// these are structural: node-postgres's own `Pool`, `PoolClient` and `Client` fit them.

/** a row as node-postgres returns it: each column's value under the column's name. */
export type PgRow = Record<string, unknown>;

/** what the store reads of the result of a query (a node-postgres `QueryResult` has more). */
export interface PgQueryResult<R extends PgRow = PgRow> {
	/** the rows the statement returned, in order; empty when it returned none. */
	rows: R[];
	/**
	 * how many rows the statement returned or changed (for `DELETE`, those deleted); `null` for a
	 * statement that counts none.
	 */
	rowCount: number | null;
}

/** a query with positional parameters, as node-postgres takes it. */
export interface PgQuery {
	/** the SQL, its parameters written `$1`, `$2`, …: values go in `values`, never into the text. */
	text: string;
	/** the parameters' values, in order (`values[0]` is `$1`), sent apart from the SQL. */
	values?: unknown[] | undefined;
}

/**
 * what the store needs of node-postgres: a `Pool` (recommended), a `Client` or a `PoolClient`,
 * or anything else with the same promise-returning `query`.
 */
export interface PgQueryable {
	/**
	 * sends one statement and resolves with its result; rejects with the server's error, or when the
	 * connection fails.
	 */
	query<R extends PgRow = PgRow>(query: PgQuery): Promise<PgQueryResult<R>>;
}

/** one connection checked out of a pool: what the lock holds for as long as it holds a name. */
export interface PgPoolClient extends PgQueryable {
	/** returns it to the pool; with an error (or `true`), closes it instead. */
	release(destroy?: Error | boolean): void;
	/**
	 * listens for the connection breaking (with no listener, its error would crash the process): the
	 * lock then reports the names it held on it as lost.
	 */
	on(event: 'error', listener: (err: Error) => void): unknown;
	/** listens for the connection closing: the lock then reports the names it held on it as lost. */
	on(event: 'end', listener: () => void): unknown;
	/** removes an `error` listener added with `on`, before the connection goes back to the pool. */
	off(event: 'error', listener: (err: Error) => void): unknown;
	/** removes an `end` listener added with `on`, before the connection goes back to the pool. */
	off(event: 'end', listener: () => void): unknown;
}

/** what the lock needs of node-postgres: a `Pool`, from which it checks out a connection per held name. */
export interface PgPool {
	/** checks a connection out of the pool, waiting for one to be free; `release` gives it back. */
	connect(): Promise<PgPoolClient>;
}
