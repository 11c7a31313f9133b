import type { Store, StoreSetOptions } from '@atcute/oauth-client';

/** options for `MemoryStore`. */
export interface MemoryStoreOptions {
	/**
	 * how many entries to keep; past it the least recently used goes. default unbounded: sessions
	 * must not be dropped for space, so bound only caches.
	 */
	maxSize?: number | undefined;
	/** how long an entry lives after it was set, in milliseconds; default for ever. */
	ttl?: number | undefined;
	/** the clock, in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
}

interface Entry<V> {
	value: V;
	/** milliseconds since the epoch; Infinity for never. */
	expiresAt: number;
}

/**
 * an in-memory `Store` for development and single-process apps: entries expire at the earlier of
 * the store's `ttl` and the `expiresAt` the library gives, and a size bound drops the least
 * recently used. expired entries are dropped when read and, as a sweep, on writes.
 * values are kept as given (not copied): do not mutate them.
 */
export class MemoryStore<K extends string = string, V = unknown> implements Store<K, V> {
	readonly #entries = new Map<K, Entry<V>>();
	readonly #maxSize: number;
	readonly #ttl: number;
	readonly #now: () => number;
	#writesSinceSweep = 0;

	constructor(options: MemoryStoreOptions = {}) {
		const { maxSize = Number.POSITIVE_INFINITY, ttl = Number.POSITIVE_INFINITY, now = Date.now } = options;
		if (!(maxSize >= 1) || (Number.isFinite(maxSize) && !Number.isInteger(maxSize))) {
			throw new TypeError(`maxSize must be a positive integer, got ${maxSize}`);
		}
		if (!(ttl > 0)) {
			throw new TypeError(`ttl must be a positive number of milliseconds, got ${ttl}`);
		}
		this.#maxSize = maxSize;
		this.#ttl = ttl;
		this.#now = now;
	}

	/** how many entries it holds, expired ones not yet swept included. */
	get size(): number {
		return this.#entries.size;
	}

	get(key: K): V | undefined {
		const entry = this.#entries.get(key);
		if (entry === undefined) return undefined;
		if (entry.expiresAt <= this.#now()) {
			this.#entries.delete(key);
			return undefined;
		}
		if (Number.isFinite(this.#maxSize)) {
			// move to the back: most recently used
			this.#entries.delete(key);
			this.#entries.set(key, entry);
		}
		return entry.value;
	}

	set(key: K, value: V, options?: StoreSetOptions): void {
		const now = this.#now();
		const expiresAt = Math.min(now + this.#ttl, options?.expiresAt ?? Number.POSITIVE_INFINITY);
		this.#entries.delete(key);
		this.#entries.set(key, { value, expiresAt });

		if (++this.#writesSinceSweep >= 1000) {
			this.#sweep(now);
		}
		while (this.#entries.size > this.#maxSize) {
			this.#entries.delete(this.#entries.keys().next().value!);
		}
	}

	take(key: K): V | undefined {
		const value = this.get(key);
		this.#entries.delete(key);
		return value;
	}

	delete(key: K): void {
		this.#entries.delete(key);
	}

	clear(): void {
		this.#entries.clear();
	}

	/** drops every expired entry; amortised over writes, so reads never scan. */
	#sweep(now: number): void {
		this.#writesSinceSweep = 0;
		for (const [key, entry] of this.#entries) {
			if (entry.expiresAt <= now) this.#entries.delete(key);
		}
	}
}
