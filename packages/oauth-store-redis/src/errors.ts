/** what the store was doing when it failed. */
export type StoreOperation = 'get' | 'set' | 'delete' | 'take' | 'clear';

/**
 * Redis could not be reached, did not answer in time, or answered with a passing condition
 * (loading, a read-only replica, out of memory, busy). a failed read is never reported as "no
 * entry": the session may well be there. for a write, whether it happened is unknown. try again.
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

/** why Redis could not serve an operation for good. */
export type RedisStoreErrorCode =
	/**
	 * Redis refused the command (a key of another type, no permission, a command it does not know),
	 * or the connection itself (a wrong password), so that it never became ready.
	 */
	| 'rejected'
	/**
	 * the ioredis client was closed for good (`quit()` or `disconnect()` was called, or it gave up
	 * reconnecting): it sends no command again unless the app calls `connect()` on it.
	 */
	| 'closed'
	/**
	 * the ioredis client is in subscriber mode (`subscribe()` was called on it, RESP2) or came from
	 * `monitor()`: it sends none of the store's commands. give the store a client of its own.
	 */
	| 'client_mode'
	/** the stored value is not JSON: something other than this store wrote under its prefix. */
	| 'invalid_value';

/** an operation that failed in a way retrying will not fix; see `code`. */
export class RedisStoreError extends Error {
	override name = 'RedisStoreError';
	/** always false: retrying will not help. */
	readonly transient = false;

	constructor(
		/** what went wrong. */
		readonly code: RedisStoreErrorCode,
		/** what the store was doing. */
		readonly operation: StoreOperation,
		message: string,
		options?: ErrorOptions,
	) {
		super(message, options);
	}
}
