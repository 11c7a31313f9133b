import { LOCK_WAIT_MS } from '@atcute/oauth-client';

/**
 * how long one store or lock query may take, waiting for a pool connection included, in
 * milliseconds. a refresh reads and writes the session inside its lock: two operations at 5 s
 * each, a small part of what a refresh may take.
 */
export const DEFAULT_TIMEOUT_MS: number = 5_000;

/**
 * the longest key `set` takes, in UTF-8 bytes. the key is the primary key, a btree entry, which
 * PostgreSQL caps at 2,704 bytes with its default 8 kB pages: an incompressible key (a random
 * state) of more than 2,692 bytes is refused with "index row size … exceeds maximum". 2,048 stays
 * below that, and covers every atproto DID (capped at 2 KB) and the client's states (22 characters).
 */
export const MAX_KEY_BYTES: number = 2_048;

/** expired rows removed at most per purge, so no purge holds row locks or I/O for long. */
export const DEFAULT_PURGE_LIMIT: number = 500;

/** writes between two purges of expired rows. */
export const DEFAULT_PURGE_INTERVAL: number = 100;

/**
 * how long a waiter waits for a busy lock by default, in milliseconds: `LOCK_WAIT_MS` of
 * `@atcute/oauth-client` (90 000), longer than a refresh takes. a crashed holder does not make
 * anyone wait this long: the server frees its lock when its connection closes.
 */
export const DEFAULT_WAIT_MS: number = LOCK_WAIT_MS;

/**
 * how much longer than `silentHolderMs` a waiter waits by default, in milliseconds: the server ends
 * a silent session within `silentHolderMs` of its last statement (idle_session_timeout), or, on a
 * server before 14, its TCP keepalives (rounded up to whole seconds) within about 4 s more.
 */
export const SILENT_HOLDER_WAIT_MARGIN_MS: number = 5_000;

/** the first retry delay while waiting, in milliseconds; it doubles up to `DEFAULT_MAX_RETRY_DELAY_MS`. */
export const DEFAULT_RETRY_DELAY_MS: number = 10;

/** the longest retry delay while waiting, in milliseconds. */
export const DEFAULT_MAX_RETRY_DELAY_MS: number = 250;

/** how often a holder checks that its connection (and so its lock) is still there, in milliseconds. */
export const DEFAULT_HEARTBEAT_MS: number = 5_000;

/** what lock names are hashed with to make advisory lock keys, unless `prefix` is given. */
export const DEFAULT_LOCK_PREFIX: string = 'atcute-oauth-lock:';

/**
 * how long a holder waits for its unlock to be confirmed before returning its result, in
 * milliseconds (or `timeout`, if shorter). a database that stopped answering must not hold back
 * the result: the unlock goes on in the background, and the connection is closed (which frees the
 * lock) if it fails.
 */
export const RELEASE_WAIT_MS: number = 1_000;

/**
 * how long a statement given up on is cancelled for, in milliseconds: its connection stays checked
 * out (a pool slot busy) until the statement ends or this passes, and is then closed, as is each
 * cancel's own connection after this, answered or not. the caller never waits for it.
 */
export const CANCEL_WAIT_MS: number = 5_000;

/**
 * how often the cancel of a statement given up on is sent again while the statement runs, in
 * milliseconds: PostgreSQL drops a cancel that reaches a backend before the statement does (still
 * in flight, or queued behind a slow network), so one cancel alone can miss it.
 */
export const CANCEL_RESEND_MS: number = 250;
