import type { Store, StoreSetOptions } from '@atcute/oauth-client';

import { ExpiryWheel } from './internal/expiry-wheel.ts';
import { ShardedMap } from './internal/sharded-map.ts';

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
	/**
	 * how values are kept: `encode` on every set, `decode` on every get. default none: kept by
	 * reference. `compactCodec` keeps each value as one string, about a quarter less memory per
	 * session and a fresh copy on every read, for a few microseconds per `get`.
	 */
	codec?: MemoryStoreCodec | undefined;
}

/**
 * how a `MemoryStore` keeps its values (see `compactCodec`). `encode` may throw (a `TypeError`
 * for a value it cannot keep): the store is then left as it was.
 */
export interface MemoryStoreCodec {
	/** what to keep for `value`. */
	encode(value: unknown): unknown;
	/** the value again, from what `encode` gave. */
	decode(kept: unknown): unknown;
}

/** the type of `value` for a message: `null`, or its `typeof`. */
const typeNameOf = (value: unknown): string => (value === null ? 'null' : typeof value);

/**
 * a bad number option for a message: a number as it is (`NaN`, `-Infinity`: JSON would write
 * `null`), text quoted (so `"100"` shows it came as text), anything else by its type.
 */
const describeNumberOption = (value: unknown): string =>
	typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean'
		? String(value)
		: typeof value === 'string'
			? JSON.stringify(value)
			: typeNameOf(value);

// no size bound, no expiry (one name, so the bundle spells Number.POSITIVE_INFINITY once)
const UNBOUNDED = Number.POSITIVE_INFINITY;

/**
 * how many expired entries one write may drop: the sweep is spread over writes in steps of this
 * size, so no write does work that grows with the store.
 */
export const SWEEP_BATCH = 100;

/**
 * an in-memory `Store` for development and single-process apps: entries expire at the earlier of
 * the store's `ttl` and the `expiresAt` the library gives, and a size bound drops the least
 * recently used. expired entries are dropped when read and, a bounded step per write, in the
 * order they expire; entries without expiry (sessions) are never visited.
 * values are kept as given (not copied; do not mutate them), or through a `codec` (as
 * `compactCodec`: one string each, decoded afresh on every read).
 */
export class MemoryStore<K extends string = string, V = unknown> implements Store<K, V> {
	// V, or what the codec made of it. sharded, so no set or delete rehashes every entry at once
	// (see ShardedMap); a bounded store keeps one Map, whose insertion order is its use order,
	// and whose maxSize bounds what a rehash moves
	readonly #values: ShardedMap<K, unknown>;
	// only entries that expire have a row here and in the wheel: sessions cost one Map entry
	readonly #expiries = new ShardedMap<K, number>();
	readonly #wheel = new ExpiryWheel<K>();
	readonly #maxSize: number;
	readonly #ttl: number;
	readonly #now: () => number;
	readonly #codec: MemoryStoreCodec | undefined;

	/**
	 * @param options the size bound, expiry, clock and codec; see `MemoryStoreOptions`
	 * @throws {TypeError} when `options` is not an object, or an option is invalid (named in the
	 *   message)
	 */
	constructor(options: MemoryStoreOptions = {}) {
		// null would fail in the destructuring below with a message naming nothing, and anything
		// else not an object (a number of entries, say) would be taken silently as no options
		if (typeof options !== 'object' || options === null) {
			throw new TypeError(`MemoryStore options must be an object, got ${typeNameOf(options)}`);
		}
		const { maxSize = UNBOUNDED, ttl = UNBOUNDED, now = Date.now, codec } = options;
		// numbers only: "100" from an environment variable would compare as one and then misbehave
		if (
			typeof maxSize !== 'number' ||
			!(maxSize >= 1) ||
			(Number.isFinite(maxSize) && !Number.isInteger(maxSize))
		) {
			throw new TypeError(`maxSize must be a positive integer, got ${describeNumberOption(maxSize)}`);
		}
		if (typeof ttl !== 'number' || !(ttl > 0)) {
			throw new TypeError(`ttl must be a positive number of milliseconds, got ${describeNumberOption(ttl)}`);
		}
		// checked now: Date.now() (its result, not the function) would fail only at the first
		// write with an expiry, as "not a function", far from here
		if (typeof now !== 'function') {
			throw new TypeError(
				`now must be a function returning milliseconds since the epoch (as Date.now, not its result), got ${typeof now === 'number' ? now : typeNameOf(now)}`,
			);
		}
		if (codec !== undefined && (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function')) {
			throw new TypeError('codec must have encode and decode functions (as compactCodec)');
		}
		this.#maxSize = maxSize;
		this.#values = new ShardedMap(Number.isFinite(maxSize) ? 1 : undefined);
		this.#codec = codec;
		this.#ttl = ttl;
		this.#now = now;
	}

	/** how many entries it holds, expired ones not yet swept included. */
	get size(): number {
		return this.#values.size;
	}

	get(key: K): V | undefined {
		const value = this.#values.get(key);
		if (value === undefined && !this.#values.has(key)) return undefined;
		if (this.#expiries.size > 0) {
			const expiresAt = this.#expiries.get(key);
			if (expiresAt !== undefined && expiresAt <= this.#now()) {
				this.delete(key);
				return undefined;
			}
		}
		if (Number.isFinite(this.#maxSize)) {
			// move to the back: most recently used
			this.#values.delete(key);
			this.#values.set(key, value);
		}
		return (this.#codec === undefined ? value : this.#codec.decode(value)) as V;
	}

	set(key: K, value: V, options?: StoreSetOptions): void {
		// encoded first: a value the codec refuses throws before the store changes
		const kept = this.#codec === undefined ? value : this.#codec.encode(value);
		// an expiry passed on its own (`set(key, value, Date.now() + ttl)`) would read as no options
		if (options !== undefined && (typeof options !== 'object' || options === null)) {
			throw new TypeError(
				`set(key, value, options) expects options such as { expiresAt }, got ${typeNameOf(options)}`,
			);
		}
		const hint = options?.expiresAt;
		// NaN would be an entry that never expires, and would stall the sweep of every other
		if (hint !== undefined && (typeof hint !== 'number' || Number.isNaN(hint))) {
			throw new TypeError(`expiresAt must be a number of milliseconds since the epoch, got ${String(hint)}`);
		}
		const now = hint !== undefined || this.#ttl !== UNBOUNDED || this.#expiries.size > 0 ? this.#now() : 0;
		const expiresAt = Math.min(now + this.#ttl, hint ?? UNBOUNDED);
		if (expiresAt <= now) {
			// expired already: what was there is replaced by nothing, and it takes no live entry's place
			this.delete(key);
			return;
		}

		// a bounded store keeps its Map in use order, so a re-set entry moves to the back; an
		// unbounded one updates in place: V8's Map keeps a hole for each deleted entry and, once
		// holes fill the table, rehashes it whole
		if (Number.isFinite(this.#maxSize)) this.#values.delete(key);
		this.#values.set(key, kept);
		const previous = this.#expiries.size > 0 ? this.#expiries.get(key) : undefined;
		if (previous !== undefined) this.#wheel.remove(key, previous);
		if (expiresAt !== UNBOUNDED) {
			// in place too, for the same reason
			this.#expiries.set(key, expiresAt);
			this.#wheel.add(key, expiresAt);
		} else if (previous !== undefined) {
			this.#expiries.delete(key);
		}

		if (this.#expiries.size > 0) this.#sweep(now);
		while (this.#values.size > this.#maxSize) {
			this.delete(this.#values.first()!);
		}
	}

	take(key: K): V | undefined {
		const value = this.get(key);
		this.delete(key);
		return value;
	}

	delete(key: K): void {
		this.#forgetExpiry(key);
		this.#values.delete(key);
	}

	clear(): void {
		this.#values.clear();
		this.#expiries.clear();
		this.#wheel.clear();
	}

	#forgetExpiry(key: K): void {
		if (this.#expiries.size === 0) return;
		const expiresAt = this.#expiries.get(key);
		if (expiresAt === undefined) return;
		this.#expiries.delete(key);
		this.#wheel.remove(key, expiresAt);
	}

	/** drops up to `SWEEP_BATCH` expired entries, the earliest first; reads never sweep. */
	#sweep(now: number): void {
		for (const key of this.#wheel.due(now, SWEEP_BATCH)) {
			const expiresAt = this.#expiries.get(key);
			// the wheel's buckets are a second wide: an entry in a due bucket has expired
			if (expiresAt !== undefined && expiresAt <= now) {
				this.#expiries.delete(key);
				this.#values.delete(key);
			}
		}
	}
}
