import { type FetchFunction, fetchJsonDocument } from '../fetch-json-document.ts';
import type { MetadataCache, MetadataCacheEntry } from '../metadata-cache.ts';
import { SingleFlight } from './single-flight.ts';

/** how a `DocumentLoader` fetches and how long it keeps what it fetched. */
export interface DocumentLoaderOptions {
	fetch: FetchFunction | undefined;
	allowHttp: boolean;
	/** milliseconds per document. */
	timeout: number;
	/** milliseconds; 0 writes nothing. */
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

	constructor(options: DocumentLoaderOptions) {
		this.#options = options;
	}

	async load<T>(request: DocumentRequest<T>): Promise<T> {
		const { cache, url, maxBytes, validate, noCache, signal } = request;
		signal?.throwIfAborted();

		if (!noCache) {
			const cached = await this.#read(cache, url, validate);
			// a shared cache may be slow: a caller who gave up meanwhile gets their reason, not the entry
			signal?.throwIfAborted();
			if (cached !== undefined) return cached;
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
				const value = validate(document);
				// only a document that passed validation is ever cached
				await this.#write(cache, url, value);
				return value;
			},
			signal,
		);
	}

	async #read<T>(cache: MetadataCache, key: string, validate: (value: unknown) => T): Promise<T | undefined> {
		try {
			const entry = await cache.get(key);
			if (!isEntry(entry) || entry.expiresAt <= this.#options.now()) return undefined;
			// a shared store is not trusted to hand back what we put in: validate again (cheap)
			return validate(entry.value);
		} catch {
			return undefined;
		}
	}

	async #write(cache: MetadataCache, key: string, value: unknown): Promise<void> {
		const { ttl, now } = this.#options;
		if (ttl === 0) return;
		const expiresAt = now() + ttl;
		try {
			await cache.set(key, { value, expiresAt } satisfies MetadataCacheEntry, { expiresAt });
		} catch {
			// a failed write only costs the next lookup a fetch
		}
	}
}
