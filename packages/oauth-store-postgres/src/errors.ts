/** what the store was doing when it failed. */
export type StoreOperation = 'migrate' | 'get' | 'set' | 'delete' | 'take' | 'clear' | 'purge';

/**
 * PostgreSQL could not be reached, did not answer in time, or answered with a passing condition
 * (shutting down or starting up, too many connections, a serialization failure or deadlock, a
 * cancelled query). a failed read is never reported as "no entry": the session may well be
 * there. for a write, whether it happened is unknown. try again.
 */
export class StoreUnavailableError extends Error {
	override name = 'StoreUnavailableError';
	/** always true: lets callers tell these apart without `instanceof`. */
	readonly transient = true;

	constructor(
		/** what the store was doing. */
		readonly operation: StoreOperation,
		message: string,
		options?: ErrorOptions,
	) {
		super(message, options);
	}
}

/** why PostgreSQL could not serve an operation for good. */
export type PostgresStoreErrorCode =
	/** PostgreSQL refused the statement (no permission, a constraint or trigger of the app's, a missing schema). */
	| 'rejected'
	/** the pool was ended (`pool.end()`), or the `Client` closed (`client.end()`): it serves no statement again. */
	| 'closed'
	/** the stored value is not JSON: something other than this store wrote to its table. */
	| 'invalid_value'
	/** the table exists but this package did not make it, or made it for something else. */
	| 'not_ours'
	/** a newer version of this package made the table, in a format this version does not know. */
	| 'version_too_new';

/** an operation that failed in a way retrying will not fix; see `code`. */
export class PostgresStoreError extends Error {
	override name = 'PostgresStoreError';
	/** always false: retrying will not help. */
	readonly transient = false;

	constructor(
		/** what went wrong. */
		readonly code: PostgresStoreErrorCode,
		/** what the store was doing. */
		readonly operation: StoreOperation,
		message: string,
		options?: ErrorOptions,
	) {
		super(message, options);
	}
}

/** how a held lock was found lost. */
export type LeaseLostReason =
	/** the holder's connection ended (the backend was terminated, the server restarted, the network dropped): the server freed the lock. */
	| 'connection_lost'
	/**
	 * the connection did not answer a heartbeat in time: the lock may have been freed. also, found
	 * when the holder read its signal (then aborted): nothing on the connection was answered for
	 * `silentHolderMs` (its event loop stalled or its machine slept), so the server may have ended
	 * the session.
	 */
	| 'unconfirmed'
	/** on release the server said this connection did not hold the lock. */
	| 'not_held';

/** what `onLeaseLost` is told. */
export interface LeaseLostEvent {
	/** the lock's name. */
	name: string;
	/** how the loss was found. */
	reason: LeaseLostReason;
	/** how long the holder had been running when the loss was found, in milliseconds. */
	heldMs: number;
}
