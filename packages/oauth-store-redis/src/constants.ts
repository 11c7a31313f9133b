/**
 * how long one store operation may take, waiting for a connection included, in milliseconds.
 * a refresh reads and writes the session inside its lock: two operations at 5 s each, a small part
 * of the refresh's time (its token request alone may take 30 s).
 */
export const DEFAULT_TIMEOUT_MS: number = 5_000;

/** keys asked for per SCAN and removed per UNLINK by `clear()`: small steps, so Redis never stalls. */
export const CLEAR_BATCH_SIZE: number = 500;
