// shared by @atcute/oauth-lock-redis and @atcute/oauth-store-postgres (each build inlines it): how
// long one attempt of a lock's bounded wait may wait for its backend's answer.

/**
 * how long an attempt after the first, begun near the end of `waitMs`, may still wait for its
 * answer, in milliseconds: a waiter whose backend stops answering gives up at most this long
 * after `waitMs`, not a whole command timeout after it.
 */
export const ANSWER_GRACE_MS = 1_000;

/**
 * the time limit of attempt `attempt` (from 0) of a wait of `waitMs` that has run `waitedMs`: the
 * first attempt (the only one with `waitMs` 0) gets the whole `timeout`, since a slow answer is
 * not a busy name; a later one the time left of `waitMs`, or `ANSWER_GRACE_MS` if less is left,
 * never more than `timeout`.
 */
export const attemptLimit = (attempt: number, timeout: number, waitMs: number, waitedMs: number): number =>
	attempt === 0 ? timeout : Math.min(timeout, Math.max(Math.ceil(waitMs - waitedMs), ANSWER_GRACE_MS));
