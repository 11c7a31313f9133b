import type { QueryResult, QueryResultRow } from 'pg';

/** a query with positional parameters, as node-postgres takes it. */
export interface PgQuery {
	text: string;
	values?: unknown[] | undefined;
}

/**
 * what the store needs of node-postgres: a `Pool` (recommended), a `Client` or a `PoolClient`,
 * or anything else with the same promise-returning `query`.
 */
export interface PgQueryable {
	query<R extends QueryResultRow = QueryResultRow>(query: PgQuery): Promise<QueryResult<R>>;
}

/** one connection checked out of a pool: what the lock holds for as long as it holds a name. */
export interface PgPoolClient extends PgQueryable {
	/** returns it to the pool; with an error (or `true`), closes it instead. */
	release(destroy?: Error | boolean): void;
	on(event: 'error', listener: (err: Error) => void): unknown;
	on(event: 'end', listener: () => void): unknown;
	off(event: 'error', listener: (err: Error) => void): unknown;
	off(event: 'end', listener: () => void): unknown;
}

/** what the lock needs of node-postgres: a `Pool`, from which it checks out a connection per held name. */
export interface PgPool {
	connect(): Promise<PgPoolClient>;
}
