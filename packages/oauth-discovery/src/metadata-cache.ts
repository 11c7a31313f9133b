import { setNewest } from '@atcute-oauth/internal/set-newest';

import { DEFAULT_MEMORY_CACHE_MAX_SIZE } from './constants.ts';

/** a value, or a promise of it: caches may be synchronous or not. */
export type Awaitable<T> = T | Promise<T>;

/** what `OAuthDiscovery` passes to `MetadataCache.set`. */
export interface MetadataCacheSetOptions {
	/**
	 * when the entry is stale, in milliseconds since the epoch (by the discovery's clock): a store
	 * with TTLs may drop it then. the entry carries it too, so a store without TTLs works as well.
	 */
	expiresAt?: number | undefined;
}

/**
 * where validated metadata documents are kept, keyed by document URL. the values are JSON-safe
 * `MetadataCacheEntry` objects. the client's `Store` satisfies this interface. a failing cache is
 * ignored: it only costs a fetch. so is a slow one: a `get` slower than the discovery's `timeout`
 * counts as a miss, and a `set` is never waited for.
 */
export interface MetadataCache {
	/** the entry under `key`, or `undefined`. */
	get(key: string): Awaitable<unknown>;
	/** stores `value` under `key`, replacing what was there. */
	set(key: string, value: unknown, options?: MetadataCacheSetOptions): Awaitable<void>;
}

/** one cached document. */
export interface MetadataCacheEntry<T = unknown> {
	/** the validated document; deeply frozen, as every document discovery returns. */
	value: T;
	/**
	 * when it goes stale, in milliseconds since the epoch. a reader takes it as stale already when
	 * this is further ahead than its own `ttl` (another process's longer one, or a clock ahead).
	 */
	expiresAt: number;
}

/** options for `MemoryMetadataCache`. */
export interface MemoryMetadataCacheOptions {
	/** how many entries to keep; the least recently set is dropped first. default 100. */
	maxSize?: number | undefined;
}

/**
 * an in-memory `MetadataCache` with a size bound (least recently set entry dropped first). staleness
 * is judged by `OAuthDiscovery` from each entry's `expiresAt`.
 */
export class MemoryMetadataCache implements MetadataCache {
	readonly #entries = new Map<string, unknown>();
	readonly #maxSize: number;

	/**
	 * @param options the size bound; see `MemoryMetadataCacheOptions`
	 * @throws TypeError when `maxSize` is not a positive integer
	 */
	constructor(options: MemoryMetadataCacheOptions = {}) {
		const { maxSize = DEFAULT_MEMORY_CACHE_MAX_SIZE } = options;
		if (!Number.isSafeInteger(maxSize) || maxSize < 1) {
			throw new TypeError(`maxSize must be a positive integer, got ${maxSize}`);
		}
		this.#maxSize = maxSize;
	}

	get(key: string): unknown {
		return this.#entries.get(key);
	}

	set(key: string, value: unknown): void {
		// map order stays least recently set first
		setNewest(this.#entries, key, value, this.#maxSize);
	}
}
