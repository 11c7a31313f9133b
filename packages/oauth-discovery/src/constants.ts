/**
 * the most bytes read from a protected resource metadata document (RFC 9728). the reference PDS
 * serves about 150 bytes (`resource`, `authorization_servers` and a few optional fields); 8 KiB
 * leaves room for every optional field of the RFC while bounding what a hostile PDS (any URL in
 * a DID document) can make us buffer.
 */
export const PROTECTED_RESOURCE_METADATA_MAX_BYTES: number = 8 * 1024;

/**
 * the most bytes read from an authorization server metadata document (RFC 8414). the reference
 * server sends about 2 KiB; 64 KiB is 30 times that, for servers that list many scopes,
 * algorithms or extension fields, and still a small, fixed cost per lookup.
 */
export const AUTHORIZATION_SERVER_METADATA_MAX_BYTES: number = 64 * 1024;

/**
 * how long one document may take, from sending the request to the last byte of the body, in
 * milliseconds. a metadata document is small and static: a server that needs longer than 10 s is
 * failing, and waiting on it would hold a login (or a token refresh) hostage.
 */
export const DEFAULT_TIMEOUT_MS: number = 10_000;

/**
 * how long a validated document is reused, in milliseconds. metadata rarely changes, but a PDS
 * that moves to another authorization server must be followed quickly: the issuer check at
 * callback and refresh time depends on it. one minute turns a burst of logins into one fetch.
 */
export const DEFAULT_CACHE_TTL_MS: number = 60_000;

/**
 * how many documents the default in-memory cache keeps. each holds only its declared fields and
 * a few flat others (never nested values), so a few times the caps above at most, and a server
 * talks to few distinct PDSes and authorization servers at once.
 */
export const DEFAULT_MEMORY_CACHE_MAX_SIZE: number = 100;

/** where a resource server publishes its metadata. @see https://www.rfc-editor.org/rfc/rfc9728#section-3 */
export const PROTECTED_RESOURCE_METADATA_PATH: string = '/.well-known/oauth-protected-resource';

/** where an authorization server publishes its metadata. @see https://www.rfc-editor.org/rfc/rfc8414#section-3 */
export const AUTHORIZATION_SERVER_METADATA_PATH: string = '/.well-known/oauth-authorization-server';
