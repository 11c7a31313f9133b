/** how wide one bucket of the wheel is, in milliseconds: expired entries may wait this long. */
const BUCKET_MS = 1000;

/**
 * the keys that expire, in buckets of one second kept in time order (a min-heap of bucket ids), so
 * a sweep visits only what is due and entries without expiry cost nothing. every operation is
 * O(1) or O(log buckets); `due` hands out at most `limit` keys, so no sweep step grows with size.
 */
export class ExpiryWheel<K> {
	readonly #buckets = new Map<number, Set<K>>();
	// the bucket ids, a binary min-heap: each id once, popped when its time has come
	readonly #heap: number[] = [];

	/** records that `key` expires at `expiresAt` (ms since the epoch). */
	add(key: K, expiresAt: number): void {
		const id = Math.ceil(expiresAt / BUCKET_MS);
		let bucket = this.#buckets.get(id);
		if (bucket === undefined) {
			bucket = new Set();
			this.#buckets.set(id, bucket);
			this.#push(id);
		}
		bucket.add(key);
	}

	/** forgets `key`, which was added with `expiresAt`. */
	remove(key: K, expiresAt: number): void {
		const id = Math.ceil(expiresAt / BUCKET_MS);
		// an emptied bucket stays until its id reaches the top of the heap, so a key set again
		// into the same second reuses it rather than pushing its id twice
		this.#buckets.get(id)?.delete(key);
	}

	/** removes and returns up to `limit` keys whose whole bucket lies at or before `now`. */
	due(now: number, limit: number): K[] {
		const keys: K[] = [];
		while (keys.length < limit && this.#heap.length > 0 && this.#heap[0]! * BUCKET_MS <= now) {
			const id = this.#heap[0]!;
			const bucket = this.#buckets.get(id);
			if (bucket !== undefined) {
				for (const key of bucket) {
					keys.push(key);
					bucket.delete(key);
					if (keys.length === limit) break;
				}
				if (bucket.size > 0) break;
				this.#buckets.delete(id);
			}
			this.#pop();
		}
		return keys;
	}

	clear(): void {
		this.#buckets.clear();
		this.#heap.length = 0;
	}

	#push(id: number): void {
		const heap = this.#heap;
		let i = heap.push(id) - 1;
		while (i > 0) {
			const parent = (i - 1) >> 1;
			if (heap[parent]! <= id) break;
			heap[i] = heap[parent]!;
			i = parent;
		}
		heap[i] = id;
	}

	#pop(): void {
		const heap = this.#heap;
		const last = heap.pop()!;
		if (heap.length === 0) return;
		let i = 0;
		for (;;) {
			const left = 2 * i + 1;
			if (left >= heap.length) break;
			const right = left + 1;
			const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
			if (heap[child]! >= last) break;
			heap[i] = heap[child]!;
			i = child;
		}
		heap[i] = last;
	}
}
