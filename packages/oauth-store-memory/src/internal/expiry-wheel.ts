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
	// the due bucket being handed out, through one iterator kept across calls (see `due`)
	#cursorId: number | undefined;
	#cursor: Iterator<K> | undefined;

	/** records that `key` expires at `expiresAt` (ms since the epoch). */
	add(key: K, expiresAt: number): void {
		const id = Math.ceil(expiresAt / BUCKET_MS);
		let bucket = this.#buckets.get(id);
		if (bucket === undefined) {
			bucket = new Set();
			this.#buckets.set(id, bucket);
			this.#push(id);
		} else if (id === this.#cursorId) {
			// a key the cursor already passed would not come round again: to the end, so it does
			bucket.delete(key);
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

	/**
	 * returns up to `limit` keys whose whole bucket lies at or before `now`, each once. a bucket's
	 * keys are handed out through an iterator kept across calls and the bucket is dropped whole
	 * once done: deleting them one by one would make the Set rehash everything it still holds
	 * each time deletes left it under a quarter full (milliseconds for a bucket of 100k states).
	 */
	due(now: number, limit: number): K[] {
		const keys: K[] = [];
		while (keys.length < limit && this.#heap.length > 0 && this.#heap[0]! * BUCKET_MS <= now) {
			const id = this.#heap[0]!;
			const bucket = this.#buckets.get(id);
			if (bucket !== undefined) {
				if (this.#cursorId !== id) {
					this.#cursorId = id;
					this.#cursor = bucket.values();
				}
				let next = this.#cursor!.next();
				while (!next.done) {
					keys.push(next.value);
					if (keys.length === limit) break;
					next = this.#cursor!.next();
				}
				if (!next.done) break;
				this.#buckets.delete(id);
				this.#cursorId = undefined;
				this.#cursor = undefined;
			}
			this.#pop();
		}
		return keys;
	}

	clear(): void {
		this.#buckets.clear();
		this.#heap.length = 0;
		this.#cursorId = undefined;
		this.#cursor = undefined;
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
