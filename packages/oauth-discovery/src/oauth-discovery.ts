import {
	AUTHORIZATION_SERVER_METADATA_MAX_BYTES,
	AUTHORIZATION_SERVER_METADATA_PATH,
	DEFAULT_CACHE_TTL_MS,
	DEFAULT_TIMEOUT_MS,
	PROTECTED_RESOURCE_METADATA_MAX_BYTES,
	PROTECTED_RESOURCE_METADATA_PATH,
} from './constants.ts';
import { DiscoveryError } from './discovery-error.ts';
import type { FetchFunction } from './fetch-json-document.ts';
import { checkAllowHttp, checkCaches, checkFunction, checkSignal } from './internal/check-options.ts';
import { checkTimeout } from './internal/check-timeout.ts';
import { DocumentLoader } from './internal/document-loader.ts';
import { displayUrl, parseHttpUrl } from './internal/parse-http-url.ts';
import { MemoryMetadataCache, type MetadataCache } from './metadata-cache.ts';
import {
	type AuthorizationServerMetadata,
	assertProtectsResource,
	protectsResource,
	validateAuthorizationServerMetadata,
} from './validate-authorization-server-metadata.ts';
import {
	type ProtectedResourceMetadata,
	validateProtectedResourceMetadata,
} from './validate-protected-resource-metadata.ts';

/** where `OAuthDiscovery` keeps each kind of document. */
export interface OAuthDiscoveryCaches {
	/** protected resource metadata, keyed by document URL; default a new `MemoryMetadataCache`. */
	protectedResource?: MetadataCache | undefined;
	/** authorization server metadata, keyed by document URL; default a new `MemoryMetadataCache`. */
	authorizationServer?: MetadataCache | undefined;
}

/** options for `OAuthDiscovery`. */
export interface OAuthDiscoveryOptions {
	/** the fetch to send requests with; default `globalThis.fetch`. */
	fetch?: FetchFunction | undefined;
	/**
	 * accept `http:` PDS, issuer and endpoint URLs; default false.
	 *
	 * > [!WARNING]
	 * > This option has security implications. Over plain http anyone on the network path can
	 * > rewrite the metadata, and with it choose the authorization server your users sign in to.
	 * > Turn it on for a local development PDS only, never in production.
	 */
	allowHttp?: boolean | undefined;
	/**
	 * the time limit per document, headers and body, in milliseconds; positive. default 10 000. a
	 * cache read that takes longer counts as a miss.
	 */
	timeout?: number | undefined;
	/**
	 * how long a validated document is reused, in milliseconds; 0 or more. default 60 000. a cached
	 * entry that expires further ahead than this (written by a process with a longer ttl, or a clock
	 * ahead of ours) is fetched again.
	 */
	ttl?: number | undefined;
	/** where documents are cached; each defaults to a bounded in-memory cache. */
	cache?: OAuthDiscoveryCaches | undefined;
	/** the clock for cache expiry, in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
}

/** options for one resolution. */
export interface ResolveOptions {
	/** skip the cache when reading (the fresh document is still cached); default false. */
	noCache?: boolean | undefined;
	/**
	 * gives up when aborted: the call then rejects with the signal's own `reason`, never a
	 * `DiscoveryError`. a request shared with callers who did not abort goes on for them.
	 */
	signal?: AbortSignal | undefined;
}

/** what `resolveFromPds` found. */
export interface PdsDiscovery {
	/** the PDS origin. */
	pds: string;
	/** the issuer of its authorization server. */
	issuer: string;
	/**
	 * the PDS's protected resource metadata, validated.
	 * @see https://www.rfc-editor.org/rfc/rfc9728#section-2
	 */
	protectedResource: ProtectedResourceMetadata;
	/**
	 * its authorization server's metadata, validated for atproto.
	 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
	 */
	authorizationServer: AuthorizationServerMetadata;
}

/** what `resolveFromService` found: a PDS, or an authorization server (an entryway) on its own. */
export interface ServiceDiscovery {
	/** the PDS origin; `undefined` when the URL was an authorization server without a PDS. */
	pds: string | undefined;
	/** the issuer of the authorization server. */
	issuer: string;
	/** the PDS's metadata; `undefined` when the URL was an authorization server. */
	protectedResource: ProtectedResourceMetadata | undefined;
	/**
	 * the authorization server's metadata, validated for atproto.
	 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
	 */
	authorizationServer: AuthorizationServerMetadata;
}

/**
 * whether the protected resource document is simply not there, so the URL may be an authorization
 * server (an entryway) rather than a PDS. anything else, transient failures above all, is not an
 * answer to that question.
 */
const isAbsentDocument = (error: DiscoveryError): boolean => {
	return (
		(error.code === 'bad_status' && (error.status === 404 || error.status === 410)) ||
		error.code === 'bad_content_type' ||
		error.code === 'invalid_json'
	);
};

/**
 * the authorization server's error, with why the protected resource document was passed over:
 * the user gave one URL, and a 404 on a document they never named would say nothing on its own
 * (an HTML page from a reverse proxy on the protected resource path, say). same code, status,
 * class and cause chain, so callers branch on it as before.
 */
const withPassedOver = (error: DiscoveryError, passedOver: DiscoveryError): DiscoveryError => {
	// the fetch's messages start with the URL (shortened as in every message), named here already
	const shown = displayUrl(passedOver.url);
	const reason = passedOver.message.startsWith(`${shown} `)
		? passedOver.message.slice(shown.length + 1)
		: passedOver.message;
	return new DiscoveryError(
		error.code,
		error.url,
		`${error.message}; its protected resource document at ${shown} was not usable: ${reason}`,
		// the issuer's own cause stays where its code says it is (a network failure's fetch error,
		// a refusal's guard error); only an error without one takes the passed-over document's
		{ status: error.status, cause: error.cause ?? passedOver },
	);
};

/**
 * resolves a PDS to its authorization server the atproto way: PDS → protected resource metadata
 * → the one issuer → authorization server metadata, each document fetched with time and size
 * limits, validated against the atproto profile, and cached. concurrent lookups of one document
 * share one request.
 * @see https://atproto.com/specs/oauth#authorization-servers
 */
export class OAuthDiscovery {
	readonly #allowHttp: boolean;
	readonly #protectedResourceCache: MetadataCache;
	readonly #authorizationServerCache: MetadataCache;
	readonly #loader: DocumentLoader;

	/**
	 * @param options the fetch, time limit, cache lifetime and caches; see `OAuthDiscoveryOptions`
	 * @throws TypeError when `options` is not an object, `timeout` or `ttl` is out of range, or an
	 * option is of the wrong type
	 */
	constructor(options: OAuthDiscoveryOptions = {}) {
		// null (or a fetch given alone) would otherwise fail on a property read, naming no option
		if (typeof options !== 'object' || options === null) {
			throw new TypeError(
				`new OAuthDiscovery(options) expects an options object ({ fetch?, timeout?, ttl?, ... }) or nothing, got ${options === null ? 'null' : typeof options}`,
			);
		}
		const { timeout = DEFAULT_TIMEOUT_MS, ttl = DEFAULT_CACHE_TTL_MS } = options;
		checkTimeout(timeout);
		if (!(ttl >= 0 && Number.isFinite(ttl))) {
			throw new TypeError(`ttl must be a finite number of milliseconds, 0 or more, got ${ttl}`);
		}
		checkAllowHttp(options.allowHttp);
		checkFunction('fetch', options.fetch);
		checkFunction('now', options.now);
		checkCaches(options.cache);

		this.#allowHttp = options.allowHttp ?? false;
		this.#loader = new DocumentLoader({
			fetch: options.fetch,
			allowHttp: this.#allowHttp,
			timeout,
			ttl,
			now: options.now ?? Date.now,
		});
		this.#protectedResourceCache = options.cache?.protectedResource ?? new MemoryMetadataCache();
		this.#authorizationServerCache = options.cache?.authorizationServer ?? new MemoryMetadataCache();
	}

	/**
	 * the validated protected resource metadata of a PDS (only its origin is used).
	 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
	 */
	resolveProtectedResource(
		pdsUrl: string | URL,
		options: ResolveOptions = {},
	): Promise<ProtectedResourceMetadata> {
		let pds: string;
		try {
			checkSignal(options.signal);
			pds = parseHttpUrl(pdsUrl, this.#allowHttp).origin;
		} catch (error) {
			return Promise.reject(error);
		}

		const url = pds + PROTECTED_RESOURCE_METADATA_PATH;
		const validate = (value: unknown) =>
			validateProtectedResourceMetadata(value, { resource: pds, url, allowHttp: this.#allowHttp });
		return this.#loader.load({
			cache: this.#protectedResourceCache,
			url,
			maxBytes: PROTECTED_RESOURCE_METADATA_MAX_BYTES,
			validate,
			noCache: options.noCache ?? false,
			signal: options.signal,
		});
	}

	/**
	 * the validated metadata of an authorization server. `issuer` must be an origin, such as
	 * `https://bsky.social`.
	 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
	 */
	resolveAuthorizationServer(
		issuer: string,
		options: ResolveOptions = {},
	): Promise<AuthorizationServerMetadata> {
		return this.#loadAuthorizationServer(issuer, options, undefined);
	}

	/** `resolveAuthorizationServer`, telling `onCacheHit` when the metadata came from the cache. */
	#loadAuthorizationServer(
		issuer: string,
		options: ResolveOptions,
		onCacheHit: (() => void) | undefined,
	): Promise<AuthorizationServerMetadata> {
		try {
			checkSignal(options.signal);
			if (parseHttpUrl(issuer, this.#allowHttp).origin !== issuer) {
				// a URL object too: the error's url is text, as for every other refusal
				const shown = displayUrl(String(issuer));
				throw new DiscoveryError(
					'invalid_url',
					shown,
					`invalid issuer ${JSON.stringify(shown)}: an issuer is an origin such as "https://example.com"`,
				);
			}
		} catch (error) {
			return Promise.reject(error);
		}

		const url = issuer + AUTHORIZATION_SERVER_METADATA_PATH;
		const validate = (value: unknown) =>
			validateAuthorizationServerMetadata(value, { issuer, url, allowHttp: this.#allowHttp });
		return this.#loader.load({
			cache: this.#authorizationServerCache,
			url,
			maxBytes: AUTHORIZATION_SERVER_METADATA_MAX_BYTES,
			validate,
			noCache: options.noCache ?? false,
			signal: options.signal,
			onCacheHit,
		});
	}

	/**
	 * resolves a PDS to its authorization server: protected resource metadata, its one issuer,
	 * that issuer's metadata, which must list the PDS when it lists `protected_resources` (a cached
	 * copy that does not is checked against a fresh one before the PDS is refused).
	 * @see https://atproto.com/specs/oauth#authorization-servers
	 */
	async resolveFromPds(pdsUrl: string | URL, options: ResolveOptions = {}): Promise<PdsDiscovery> {
		checkSignal(options.signal);
		const pds = parseHttpUrl(pdsUrl, this.#allowHttp).origin;
		const protectedResource = await this.resolveProtectedResource(pds, options);
		return this.#fromProtectedResource(pds, protectedResource, options);
	}

	/**
	 * the second half of `resolveFromPds`, for a caller that read the PDS's protected resource
	 * metadata first (with `resolveProtectedResource`) to look at the issuer it names before that
	 * issuer's metadata is fetched: a client that finds an account's PDS naming another issuer than
	 * its session's knows the account moved, whether or not the new server answers.
	 */
	async resolveFromProtectedResource(
		pdsUrl: string | URL,
		protectedResource: ProtectedResourceMetadata,
		options: ResolveOptions = {},
	): Promise<PdsDiscovery> {
		checkSignal(options.signal);
		const pds = parseHttpUrl(pdsUrl, this.#allowHttp).origin;
		// another PDS's document would lead to its server: the pair is checked as one fetch would be
		if (protectedResource?.resource !== pds) {
			throw new DiscoveryError(
				'mismatch',
				pds + PROTECTED_RESOURCE_METADATA_PATH,
				`the protected resource metadata given is for ${JSON.stringify(String(protectedResource?.resource))}, not ${pds}`,
			);
		}
		return this.#fromProtectedResource(pds, protectedResource, options);
	}

	/**
	 * resolves a URL a user typed, which may be a PDS or an authorization server (an entryway such
	 * as `https://bsky.social`): as a PDS first, and only when its protected resource metadata is
	 * absent (404, 410, or not JSON), as an issuer at the URL's origin. a failure to fetch that
	 * document (timeout, 5xx, 429) is thrown, never taken for absence. when the issuer fails too,
	 * its `DiscoveryError` is thrown, the protected resource failure named in its message; its
	 * `cause` is its own (a `network` or `refused` fetch error), or else that failure.
	 */
	async resolveFromService(url: string | URL, options: ResolveOptions = {}): Promise<ServiceDiscovery> {
		// checked first: the fallback below calls on it
		checkSignal(options.signal);
		const origin = parseHttpUrl(url, this.#allowHttp).origin;

		let protectedResource: ProtectedResourceMetadata;
		try {
			protectedResource = await this.resolveProtectedResource(origin, options);
		} catch (error) {
			// an abort is the caller's answer, never a sign the document is absent
			options.signal?.throwIfAborted();
			// only an absent document means "not a PDS": a failed fetch says nothing either way, and
			// switching servers on an outage would hide it
			if (!(error instanceof DiscoveryError && isAbsentDocument(error))) throw error;

			let authorizationServer: AuthorizationServerMetadata;
			try {
				authorizationServer = await this.resolveAuthorizationServer(origin, options);
			} catch (fallbackError) {
				options.signal?.throwIfAborted();
				if (!(fallbackError instanceof DiscoveryError)) throw fallbackError;
				throw withPassedOver(fallbackError, error);
			}
			return { pds: undefined, issuer: origin, protectedResource: undefined, authorizationServer };
		}

		// from here on it is a PDS: a broken issuer behind it is that PDS's error, not a cue to fall back
		return this.#fromProtectedResource(origin, protectedResource, options);
	}

	async #fromProtectedResource(
		pds: string,
		protectedResource: ProtectedResourceMetadata,
		options: ResolveOptions,
	): Promise<PdsDiscovery> {
		const issuer = protectedResource.authorization_servers[0];
		let cached = false;
		let authorizationServer = await this.#loadAuthorizationServer(issuer, options, () => {
			cached = true;
		});
		// a cached copy may predate the server's vouching for this PDS (one it has just taken on,
		// an account moved within it): its refusal stands only once a fresh copy refuses too
		if (cached && !protectsResource(authorizationServer, pds)) {
			authorizationServer = await this.#loadAuthorizationServer(
				issuer,
				{ ...options, noCache: true },
				undefined,
			);
		}

		// the PDS names the server; the server must not disown the PDS
		assertProtectsResource(authorizationServer, pds, issuer + AUTHORIZATION_SERVER_METADATA_PATH);

		return { pds, issuer, protectedResource, authorizationServer };
	}
}
