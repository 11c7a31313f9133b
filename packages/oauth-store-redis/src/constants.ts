/**
 * how long one store operation may take, waiting for a connection included, in milliseconds.
 * a refresh reads and writes the session inside its lock: with the authorization server's 10 s
 * limit, two operations at 5 s each still fit well inside a 30 s lock lease.
 */
export const DEFAULT_TIMEOUT_MS: number = 5_000;

/** keys asked for per SCAN and removed per UNLINK by `clear()`: small steps, so Redis never stalls. */
export const CLEAR_BATCH_SIZE: number = 500;
