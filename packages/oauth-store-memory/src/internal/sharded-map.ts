/** how many Maps a `ShardedMap` spreads its keys over by default (a power of two). */
export const SHARDS = 1024;

/**
 * a `Map` with string keys spread over many smaller Maps by a hash of the key. V8 rehashes every
 * entry of a Map in one call when it grows, when deleted entries fill it, and when deletes leave
 * it under a quarter full; past 4,096 entries the new table is a large object, fresh memory that
 * costs a page fault per 4 kB: about 0.25 µs per entry here, 15 ms at 65k, 140 ms at 512k. spread
 * over 1,024 Maps, a million entries are about 1,000 a Map, and a rehash moves those (10-20 µs).
 * a Map is made when its first key comes, so a small store holds few. (`size` is kept, so it
 * costs nothing to read.) with one shard it is one Map, in insertion order (see `first`).
 */
export class ShardedMap<K extends string, V> {
	readonly #shards: (Map<K, V> | undefined)[];
	readonly #mask: number;
	#size = 0;

	/** `shards` must be a power of two. */
	constructor(shards: number = SHARDS) {
		this.#shards = new Array(shards);
		this.#mask = shards - 1;
	}

	get size(): number {
		return this.#size;
	}

	get(key: K): V | undefined {
		return this.#shards[this.#index(key)]?.get(key);
	}

	has(key: K): boolean {
		return !!this.#shards[this.#index(key)]?.has(key);
	}

	set(key: K, value: V): void {
		const index = this.#index(key);
		this.#shards[index] ??= new Map();
		const shard = this.#shards[index];
		const size = shard.size;
		shard.set(key, value);
		this.#size += shard.size - size;
	}

	delete(key: K): void {
		if (this.#shards[this.#index(key)]?.delete(key)) this.#size--;
	}

	/** the first key still in shard 0: with one shard, the oldest key set (and not since deleted). */
	first(): K | undefined {
		return this.#shards[0]?.keys().next().value;
	}

	clear(): void {
		this.#shards.fill(undefined);
		this.#size = 0;
	}

	#index(key: K): number {
		return this.#mask && shardOf(key, this.#mask);
	}
}

/** which of `mask + 1` shards (a power of two) `key` goes to. */
export const shardOf = (key: string, mask: number): number => {
	// FNV-1a over the UTF-16 code units: every character counts, so keys that share a prefix or a
	// suffix still spread; its low bits are its weakest, so the high ones are folded in
	let hash = 0x811c9dc5;
	for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
	return (hash ^ (hash >>> 15)) & mask;
};
