import { MAX_EXPIRES_AT } from '@atcute-oauth/internal/expires-at';
import { type FetchFunction, fetchJsonDocument } from '../fetch-json-document.ts';
import type { MetadataCache, MetadataCacheEntry } from '../metadata-cache.ts';
import { deepFreeze } from './deep-freeze.ts';
import { SingleFlight } from './single-flight.ts';
import { TIMED_OUT, waitBounded } from './wait-bounded.ts';

/** how a `DocumentLoader` fetches and how long it keeps what it fetched. */
export interface DocumentLoaderOptions {
	fetch: FetchFunction | undefined;
	allowHttp: boolean;
	/** milliseconds per document, and per cache read. */
	timeout: number;
	/** milliseconds; 0 writes nothing (and reuses nothing). */
	ttl: number;
	now: () => number;
}

/** one document to load. */
export interface DocumentRequest<T> {
	cache: MetadataCache;
	/** the document URL, also the cache key. */
	url: string;
	maxBytes: number;
	/** turns the JSON into the validated value, or throws. */
	validate: (value: unknown) => T;
	noCache: boolean;
	signal: AbortSignal | undefined;
	/** called when the document came from the cache, with no request made. */
	onCacheHit?: (() => void) | undefined;
}

const isEntry = (value: unknown): value is MetadataCacheEntry => {
	const entry = value as MetadataCacheEntry | null;
	return (
		typeof entry === 'object' && entry !== null && typeof entry.expiresAt === 'number' && 'value' in entry
	);
};

/**
 * loads validated documents through a cache: a fresh entry is used, otherwise one shared fetch
 * per URL fills it. the cache is an optimisation, so its failures only cost a fetch.
 */
export class DocumentLoader {
	readonly #options: DocumentLoaderOptions;
	readonly #flights = new SingleFlight();
	/**
	 * each document this loader validated, with the URL it was validated for. a cache that hands
	 * back that very object (the in-memory one does) hands back what passed: it is deeply frozen,
	 * so nothing can have changed it since, and validation depends on the URL alone
	 */
	readonly #validated = new WeakMap<object, string>();

	constructor(options: DocumentLoaderOptions) {
		this.#options = options;
	}

	async load<T>(request: DocumentRequest<T>): Promise<T> {
		const { cache, url, maxBytes, validate, noCache, signal } = request;
		signal?.throwIfAborted();

		if (!noCache) {
			const cached = await this.#read(cache, url, validate, signal);
			// a shared cache may be slow: a caller who gave up meanwhile gets their reason, not the entry
			signal?.throwIfAborted();
			if (cached !== undefined) {
				request.onCacheHit?.();
				return cached;
			}
		}

		const { fetch, allowHttp, timeout } = this.#options;
		return this.#flights.run(
			url,
			async (flightSignal) => {
				const document = await fetchJsonDocument(url, {
					maxBytes,
					fetch,
					timeout,
					allowHttp,
					signal: flightSignal,
				});
				// every caller (and the cache) gets this one object: frozen, so none can change it
				// for the others. `validate` returns a bounded copy (see keep-usable-fields.ts), so the
				// parsed document, whatever it packed in, is garbage once this returns
				const value = deepFreeze(validate(document));
				if (typeof value === 'object' && value !== null) this.#validated.set(value, url);
				// only a document that passed validation is ever cached. not awaited: a store that
				// never settles would hold this shared flight open, and every later caller with it
				this.#write(cache, url, value);
				return value;
			},
			signal,
		);
	}

	async #read<T>(
		cache: MetadataCache,
		key: string,
		validate: (value: unknown) => T,
		signal: AbortSignal | undefined,
	): Promise<T | undefined> {
		try {
			// a store that never answers must not hang discovery: the read gives way to the
			// caller's signal (the rejection lands in the catch, then `load` throws the reason),
			// and one slower than a fetch's time limit counts as a miss
			const entry = await waitBounded(cache.get(key), this.#options.timeout, signal);
			if (entry === TIMED_OUT) return undefined;
			if (!isEntry(entry)) return undefined;
			const { ttl, now } = this.#options;
			const time = now();
			// fresh means within our own ttl from now: an expiry further away was written by a
			// process with a longer ttl, or a clock ahead of ours, and would keep the document past
			// ours. written so NaN is stale too
			if (!(entry.expiresAt > time && entry.expiresAt <= time + ttl)) return undefined;
			// the object this loader validated for this very URL, frozen since: checked already
			const { value } = entry;
			if (typeof value === 'object' && value !== null && this.#validated.get(value) === key) {
				return value as T;
			}
			// a shared store is not trusted to hand back what we put in: validate again (cheap).
			// frozen, as a fetched document is: a store may hand the same object to every reader
			return deepFreeze(validate(entry.value));
		} catch {
			return undefined;
		}
	}

	/** starts a write and returns at once: its outcome is never waited for. */
	#write(cache: MetadataCache, key: string, value: unknown): void {
		const { ttl, now } = this.#options;
		if (ttl === 0) return;
		// a Date's range at most: every store adapter refuses an expiry past it, so a "for ever"
		// ttl (Number.MAX_SAFE_INTEGER) would make every write fail, and every lookup a fetch
		const expiresAt = Math.min(now() + ttl, MAX_EXPIRES_AT);
		let pending: unknown;
		try {
			const entry = Object.freeze({ value, expiresAt } satisfies MetadataCacheEntry);
			pending = cache.set(key, entry, { expiresAt });
		} catch {
			// a failed write only costs the next lookup a fetch
			return;
		}
		// same for one that fails later; caught so it is never an unhandled rejection
		Promise.resolve(pending).catch(() => {});
	}
}
