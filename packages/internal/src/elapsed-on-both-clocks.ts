// shared by @atcute/oauth-lock-redis and @atcute/oauth-store-postgres (each build inlines it): how
// long a lock holder may have been away, for a check that must err towards "the lease ran out".

/** a moment read on the monotonic clock and on the wall clock. */
export interface Moment {
	/** `performance.now()`. */
	readonly mono: number;
	/** `Date.now()`. */
	readonly wall: number;
}

/** now, on both clocks. */
export const momentNow = (): Moment => ({ mono: performance.now(), wall: Date.now() });

/**
 * the later of two moments, as read (by the monotonic clock), both clocks as they were read then.
 * not clock by clock: after a wall clock stepped back, the larger wall reading is one from before
 * the step, and counting from it would make the wall clock's count short by the step (a machine
 * that then sleeps past the lease would read it held).
 */
export const laterMoment = (a: Moment, b: Moment): Moment => (b.mono >= a.mono ? b : a);

/**
 * milliseconds since `then` by whichever clock counts more. the monotonic clock does not run while
 * the machine sleeps (a suspended laptop, some VM pauses: Linux's CLOCK_MONOTONIC, which
 * `performance.now()` reads), yet a lease on a server (Redis's PX, PostgreSQL's
 * idle_session_timeout) runs out meanwhile; the wall clock is set right on resume. a wall clock
 * stepped forward only makes this longer (a lease taken for lost too early, which is safe), and
 * one stepped back is outcounted by the monotonic clock.
 */
export const elapsedSince = (then: Moment): number =>
	Math.max(performance.now() - then.mono, Date.now() - then.wall);
