/** how many Maps a `ShardedMap` spreads its keys over (a power of two). */
const SHARDS = 64;

/**
 * a `Map` with string keys spread over 64 smaller Maps by a hash of the key. V8 rehashes every
 * entry of a Map in one call when it grows, when deleted entries fill it, and when deletes leave
 * it under a quarter full: 5-9 ms for 100k entries here, longer at a million. spread over 64
 * Maps, each rehash moves a 64th of that. (`size` is kept, so it costs nothing to read.)
 */
export class ShardedMap<K extends string, V> {
	readonly #shards: Map<K, V>[] = Array.from({ length: SHARDS }, () => new Map<K, V>());
	#size = 0;

	get size(): number {
		return this.#size;
	}

	get(key: K): V | undefined {
		return this.#shard(key).get(key);
	}

	set(key: K, value: V): void {
		const shard = this.#shard(key);
		const size = shard.size;
		shard.set(key, value);
		this.#size += shard.size - size;
	}

	delete(key: K): boolean {
		const deleted = this.#shard(key).delete(key);
		if (deleted) this.#size--;
		return deleted;
	}

	clear(): void {
		for (const shard of this.#shards) shard.clear();
		this.#size = 0;
	}

	#shard(key: K): Map<K, V> {
		// FNV-1a over the UTF-16 code units: every character counts, so keys that share a prefix
		// or a suffix still spread
		let hash = 0x811c9dc5;
		for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
		return this.#shards[hash & (SHARDS - 1)]!;
	}
}
