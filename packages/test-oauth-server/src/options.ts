/** the algorithms the reference server advertises for client assertions and DPoP proofs. */
export const DEFAULT_SIGNING_ALGS: readonly string[] = ['ES256', 'ES384', 'ES512', 'PS256', 'RS256'];

/** the scopes the reference PDS advertises. */
export const DEFAULT_SCOPES: readonly string[] = [
	'atproto',
	'transition:generic',
	'transition:email',
	'transition:chat.bsky',
];

/** options for `startTestOAuthServer`. */
export interface TestOAuthServerOptions {
	/** seconds an access token lives; default 3600. `behaviour.accessTokenTtl` overrides it. */
	accessTokenTtl?: number | undefined;
	/** seconds an authorization code lives; default 60. */
	codeTtl?: number | undefined;
	/** seconds a pushed authorization request lives; default 300. */
	parTtl?: number | undefined;
	/** `token_endpoint_auth_signing_alg_values_supported`, also what assertions may use; default ES256, ES384, ES512, PS256, RS256. */
	authSigningAlgs?: readonly string[] | undefined;
	/** `dpop_signing_alg_values_supported`, also what proofs may use; default the same list. */
	dpopSigningAlgs?: readonly string[] | undefined;
	/** `scopes_supported`; default atproto and the three transition scopes. */
	scopesSupported?: readonly string[] | undefined;
	/**
	 * how far a DPoP proof's `iat` may be from the server clock, in seconds; default 60. a client
	 * assertion's is checked as the reference server does: at most 60 s old, never ahead.
	 */
	iatLeeway?: number | undefined;
	/** the host clock in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
	/**
	 * how long an idle keep-alive connection is kept, in milliseconds; default 5000 (Node's). not
	 * less: clients do not reuse a connection the server announces to keep within their margin
	 * (Node's agent 1 s, undici's fetch 2 s), so each request would pay a new TCP connection.
	 * idle client sockets are unref'd, and `close()` closes every connection, so none holds the
	 * process.
	 */
	keepAliveTimeout?: number | undefined;
	/**
	 * serve all three over https with this PEM certificate and key (it must name 127.0.0.1);
	 * default plain http. clients then need its CA, e.g. through `NODE_EXTRA_CA_CERTS`.
	 */
	tls?: { cert: string; key: string } | undefined;
	/**
	 * the host name in the three origins (and so in the DID documents and metadata); default
	 * `127.0.0.1`. the servers still listen on 127.0.0.1 only: the name must lead there for the
	 * clients (a `*.localhost` name, say, which RFC 6761 reserves for loopback).
	 */
	host?: string | undefined;
}

/** the options with their defaults filled in. */
export interface ResolvedOptions {
	accessTokenTtl: number;
	codeTtl: number;
	parTtl: number;
	authSigningAlgs: readonly string[];
	dpopSigningAlgs: readonly string[];
	scopesSupported: readonly string[];
	iatLeeway: number;
	now: () => number;
	keepAliveTimeout: number;
	tls: { cert: string; key: string } | undefined;
	host: string;
}

/** fills in the defaults. */
export const resolveOptions = (options: TestOAuthServerOptions = {}): ResolvedOptions => {
	return {
		accessTokenTtl: options.accessTokenTtl ?? 3600,
		codeTtl: options.codeTtl ?? 60,
		parTtl: options.parTtl ?? 300,
		authSigningAlgs: options.authSigningAlgs ?? DEFAULT_SIGNING_ALGS,
		dpopSigningAlgs: options.dpopSigningAlgs ?? DEFAULT_SIGNING_ALGS,
		scopesSupported: options.scopesSupported ?? DEFAULT_SCOPES,
		iatLeeway: options.iatLeeway ?? 60,
		now: options.now ?? Date.now,
		keepAliveTimeout: options.keepAliveTimeout ?? 5000,
		tls: options.tls,
		host: options.host ?? '127.0.0.1',
	};
};
