// shared by @atcute/oauth-lock-redis, @atcute/oauth-store-redis and @atcute/oauth-store-postgres
// (each build inlines it): every time limit they take ends up in a timer.

/** the longest delay a timer keeps (2^31 - 1 ms, about 24.8 days): Node runs a longer one after 1 ms. */
export const MAX_TIMER_MS: number = 2 ** 31 - 1;

/** whether `value` is a delay a timer can wait: a positive, finite number up to `MAX_TIMER_MS`. */
export const isTimerDelay = (value: number): boolean =>
	Number.isFinite(value) && value > 0 && value <= MAX_TIMER_MS;
