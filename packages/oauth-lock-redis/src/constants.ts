/**
 * how long a lease lasts without renewal, in milliseconds. renewed while held: a crashed holder
 * frees the name within this time.
 */
export const DEFAULT_LEASE_MS: number = 30_000;

/** how much longer than a lease a waiter waits by default: enough to outlast a crashed holder's lease. */
export const WAIT_MARGIN_MS: number = 5_000;

/** the first retry delay while waiting, in milliseconds; it doubles up to `DEFAULT_MAX_RETRY_DELAY_MS`. */
export const DEFAULT_RETRY_DELAY_MS: number = 25;

/** the longest retry delay while waiting, in milliseconds. */
export const DEFAULT_MAX_RETRY_DELAY_MS: number = 500;

/** how long one Redis command may take, waiting for a connection included, in milliseconds. */
export const DEFAULT_COMMAND_TIMEOUT_MS: number = 5_000;

/**
 * how long a holder waits for its release to be confirmed before returning its result, in
 * milliseconds (or `timeout`, if shorter). a Redis that stopped answering must not hold back the
 * result: the release goes on in the background, and the lease runs out by itself if it never lands.
 */
export const RELEASE_WAIT_MS: number = 1_000;

/** the key prefix for lock names. */
export const DEFAULT_PREFIX: string = 'oauth-lock:';
