/** how wide one bucket of the wheel is, in milliseconds: expired entries may wait this long. */
const BUCKET_MS = 1000;

/**
 * how many keys one `Set` of a bucket holds before the bucket starts another. V8 grows a `Set` by
 * rehashing it whole into a table twice the size, and past 4,096 keys that table is a large
 * object (fresh memory, a page fault per 4 kB): tens of milliseconds for one `add` at 300k keys
 * set within one second. kept to this size, a growth moves at most 2,048 keys.
 */
export const SEGMENT_SIZE = 4096;

/**
 * the keys that expire, in buckets of one second kept in time order (an indexed min-heap of the ids
 * of the buckets that hold keys, each id once), so a sweep visits only what is due and entries
 * without expiry cost nothing. a bucket is a list of `Set`s of at most `SEGMENT_SIZE` keys, added
 * to at the end. `add`, `remove` and `due` are O(1) or O(log buckets) and never rehash more than one
 * segment; `remove` looks in a bucket's segments from the newest (one for a bucket of up to 4,096
 * keys), and takes an emptied bucket's id out of the heap at once. `due` hands out at most `limit`
 * keys, so no sweep step grows with size, and memory follows the buckets that hold keys.
 */
export class ExpiryWheel<K> {
	readonly #buckets = new Map<number, Set<K>[]>();
	// the bucket ids, a binary min-heap: each id once, popped when its time has come
	readonly #heap: number[] = [];
	// where each id is in the heap: an emptied bucket's id leaves it at once. (left there until its
	// time, the ids of seconds emptied by entries set again would pile up for as long as the ttl:
	// one key set again once a second, under a 30-day ttl, kept 2.6 million of them)
	readonly #at = new Map<number, number>();
	// the due bucket being handed out: its id, the segment being read, and an iterator over that
	// segment kept across calls (see `due`)
	#cursorId: number | undefined;
	#cursorSegment = 0;
	#cursor: Iterator<K> | undefined;

	/** records that `key` expires at `expiresAt` (ms since the epoch). */
	add(key: K, expiresAt: number): void {
		const id = Math.ceil(expiresAt / BUCKET_MS);
		let bucket = this.#buckets.get(id);
		if (bucket === undefined) {
			bucket = [new Set()];
			this.#buckets.set(id, bucket);
			if (!this.#at.has(id)) this.#push(id);
		} else if (id === this.#cursorId) {
			// a key the cursor already passed would not come round again: to the end, so it does
			deleteFrom(bucket, key);
		}
		let last = bucket[bucket.length - 1]!;
		if (last.size >= SEGMENT_SIZE) {
			last = new Set();
			bucket.push(last);
		}
		last.add(key);
	}

	/** forgets `key`, which was added with `expiresAt`. */
	remove(key: K, expiresAt: number): void {
		const id = Math.ceil(expiresAt / BUCKET_MS);
		const bucket = this.#buckets.get(id);
		if (bucket === undefined) return;
		deleteFrom(bucket, key);
		// an emptied bucket goes now, its id with it, not when its second comes: a store whose entries
		// are set again before they expire (sessions under a ttl, refreshed every few minutes) would
		// otherwise keep one for each, for as long as the ttl. one set into that second again makes
		// a new bucket
		if (id !== this.#cursorId && bucket.every((segment) => segment.size === 0)) {
			this.#buckets.delete(id);
			this.#removeId(id);
		}
	}

	/**
	 * returns up to `limit` keys whose whole bucket lies at or before `now`, each once. a bucket's
	 * keys are handed out through an iterator kept across calls, segment after segment, and the
	 * bucket is dropped whole once done: deleting them one by one would make each `Set` rehash
	 * what it still holds each time deletes left it under a quarter full.
	 */
	due(now: number, limit: number): K[] {
		const keys: K[] = [];
		// ids of buckets no longer there popped (none is left in the heap: kept as a bound all the
		// same), counted against `limit` with the keys
		let emptied = 0;
		while (keys.length + emptied < limit && this.#heap.length > 0 && this.#heap[0]! * BUCKET_MS <= now) {
			const id = this.#heap[0]!;
			const bucket = this.#buckets.get(id);
			if (bucket === undefined) {
				emptied++;
			} else {
				if (this.#cursorId !== id) {
					this.#cursorId = id;
					this.#cursorSegment = 0;
					this.#cursor = bucket[0]!.values();
				}
				if (!this.#handOut(bucket, keys, limit)) break;
				this.#buckets.delete(id);
				this.#cursorId = undefined;
				this.#cursor = undefined;
			}
			this.#pop();
		}
		return keys;
	}

	/** how many buckets it holds: every one has a key that expires in its second, or is being handed out. */
	get bucketCount(): number {
		return this.#buckets.size;
	}

	/** how many bucket ids the heap holds (for tests). */
	get heapSize(): number {
		return this.#heap.length;
	}

	clear(): void {
		this.#buckets.clear();
		this.#heap.length = 0;
		this.#at.clear();
		this.#cursorId = undefined;
		this.#cursor = undefined;
	}

	/** moves the cursor's keys into `keys` up to `limit`; whether the bucket is done. */
	#handOut(bucket: Set<K>[], keys: K[], limit: number): boolean {
		for (;;) {
			let next = this.#cursor!.next();
			while (!next.done) {
				keys.push(next.value);
				if (keys.length === limit) return false;
				next = this.#cursor!.next();
			}
			// segments added while the bucket was handed out are read too (`bucket.length` is live)
			if (this.#cursorSegment + 1 >= bucket.length) return true;
			this.#cursorSegment++;
			this.#cursor = bucket[this.#cursorSegment]!.values();
		}
	}

	#push(id: number): void {
		this.#siftUp(this.#heap.push(id) - 1, id);
	}

	/** removes the smallest id. */
	#pop(): void {
		this.#removeAt(0);
	}

	/** removes `id`, wherever it is in the heap. */
	#removeId(id: number): void {
		const i = this.#at.get(id);
		if (i !== undefined) this.#removeAt(i);
	}

	#removeAt(i: number): void {
		const heap = this.#heap;
		this.#at.delete(heap[i]!);
		const last = heap.pop()!;
		if (i === heap.length) return;
		// the last id fills the hole, then moves up or down to its place
		if (i > 0 && heap[(i - 1) >> 1]! > last) this.#siftUp(i, last);
		else this.#siftDown(i, last);
	}

	/** puts `id` at `i` or above, moving larger parents down. */
	#siftUp(i: number, id: number): void {
		const heap = this.#heap;
		while (i > 0) {
			const parent = (i - 1) >> 1;
			if (heap[parent]! <= id) break;
			this.#place(i, heap[parent]!);
			i = parent;
		}
		this.#place(i, id);
	}

	/** puts `id` at `i` or below, moving smaller children up. */
	#siftDown(i: number, id: number): void {
		const heap = this.#heap;
		for (;;) {
			const left = 2 * i + 1;
			if (left >= heap.length) break;
			const right = left + 1;
			const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
			if (heap[child]! >= id) break;
			this.#place(i, heap[child]!);
			i = child;
		}
		this.#place(i, id);
	}

	#place(i: number, id: number): void {
		this.#heap[i] = id;
		this.#at.set(id, i);
	}
}

/** deletes `key` from whichever segment holds it, the newest first (where recent keys are). */
const deleteFrom = <K>(bucket: Set<K>[], key: K): void => {
	for (let i = bucket.length - 1; i >= 0; i--) if (bucket[i]!.delete(key)) return;
};
