import { setNewest } from '@atcute-oauth/internal/set-newest';

/** where the latest `DPoP-Nonce` of each server origin is kept; may be sync or async. */
export interface DpopNonceCache {
	/** the latest nonce of `origin`, if known. */
	get(origin: string): string | undefined | Promise<string | undefined>;
	/** remembers the latest nonce of `origin`. */
	set(origin: string, nonce: string): void | Promise<void>;
}

/** options for `MemoryDpopNonceCache`. */
export interface MemoryDpopNonceCacheOptions {
	/**
	 * how many origins to remember; the one whose nonce was set longest ago is dropped first.
	 * default 1000: a client whose accounts live on more PDSes than it remembers would pay a
	 * `use_dpop_nonce` round trip on each call to one it forgot (about 190 bytes an origin; at
	 * most about 1.2 KB, as `createDpopFetch` writes no nonce longer than 1,024 characters).
	 */
	maxSize?: number | undefined;
}

/** an in-memory `DpopNonceCache` with a size bound (the origin set longest ago is dropped first). */
export class MemoryDpopNonceCache implements DpopNonceCache {
	readonly #nonces = new Map<string, string>();
	readonly #maxSize: number;

	/**
	 * @param options the size bound; see `MemoryDpopNonceCacheOptions`
	 * @throws {TypeError} when `options` is not an object or `maxSize` not a positive integer
	 */
	constructor(options: MemoryDpopNonceCacheOptions = {}) {
		// null would fail in the destructuring below with a message naming nothing
		if (typeof options !== 'object' || options === null) {
			throw new TypeError(
				`MemoryDpopNonceCache options must be an object ({ maxSize? }), got ${options === null ? 'null' : typeof options}`,
			);
		}
		const { maxSize = 1000 } = options;
		if (!Number.isInteger(maxSize) || maxSize < 1) {
			throw new TypeError(`maxSize must be a positive integer, got ${maxSize}`);
		}
		this.#maxSize = maxSize;
	}

	get(origin: string): string | undefined {
		return this.#nonces.get(origin);
	}

	set(origin: string, nonce: string): void {
		// re-inserted, so the map's order stays least recently set first
		setNewest(this.#nonces, origin, nonce, this.#maxSize);
	}
}
