/** a value, or a promise of it: stores may be synchronous or not. */
export type Awaitable<T> = T | Promise<T>;

/** options `Store.get` may be given; the library passes none today, so expect `undefined`. */
export interface StoreGetOptions {
	/** aborted when the caller gives up waiting. */
	signal?: AbortSignal | undefined;
}

/** options the library passes to `Store.set`. */
export interface StoreSetOptions {
	/**
	 * when the entry is no longer needed, in milliseconds since the epoch: a store with TTLs can
	 * expire it then (never earlier). absent: keep it until it is deleted.
	 */
	expiresAt?: number | undefined;
}

/**
 * a key-value store for sessions (keyed by DID) and authorization states (keyed by the OAuth
 * `state`). methods may be sync or async. values must round-trip exactly (JSON-safe).
 */
export interface Store<K extends string = string, V = unknown> {
	/** the value under `key`, or `undefined`. */
	get(key: K, options?: StoreGetOptions): Awaitable<V | undefined>;
	/** stores `value` under `key`, replacing what was there (an upsert, never an insert). */
	set(key: K, value: V, options?: StoreSetOptions): Awaitable<void>;
	/** removes `key`; removing a missing key is not an error. */
	delete(key: K): Awaitable<void>;
	/** removes every entry. */
	clear(): Awaitable<void>;
	/**
	 * optional: returns the value and removes it in one atomic step, so two callers can never
	 * both get it. state stores shared by several processes should implement it; without it the
	 * library falls back to get-then-delete, single-use only within one process.
	 */
	take?(key: K): Awaitable<V | undefined>;
}
