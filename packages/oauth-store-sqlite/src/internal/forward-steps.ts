/**
 * how far the wall clock must move against `performance.now()` between two readings to count as a
 * step: NTP slews it by well under a millisecond a second, so only a step (or a suspend, which
 * `performance.now()` does not count) moves it this much.
 */
const STEP_MS = 1000;

/**
 * the wall clock, less the steps forward it took lately (an NTP step, a VM resumed, a clock set by
 * hand), as this process saw them: `performance.now()` moved less than it between two readings.
 * for the lock's takeovers and sweeps: a lease row's expiry was written on the wall clock before
 * the step, and its holder (whose renewal runs on a timer, which a step does not move) rewrites it
 * within a third of its lease, so a lease the step alone made look run out is still live until
 * then. the steps count for `holdMs` (a whole lease) after the last one was seen; a step back
 * cancels as much of them. a process that starts after a step has no reading before it.
 */
export class ForwardSteps {
	readonly #now: () => number;
	readonly #holdMs: number;
	/** `now() - performance.now()` at the last reading. */
	#lastOffset: number | undefined;
	/** the steps forward still counted, in milliseconds. */
	#stepped = 0;
	/** the `performance.now()` past which they no longer count. */
	#until = 0;

	constructor(now: () => number, holdMs: number) {
		this.#now = now;
		this.#holdMs = holdMs;
	}

	/** the wall clock now, and the time to judge leases by: it less the steps forward still counted. */
	read(): { wall: number; steady: number } {
		const wall = this.#now();
		const monotonic = performance.now();
		const offset = wall - monotonic;
		if (monotonic >= this.#until) this.#stepped = 0;
		if (this.#lastOffset !== undefined) {
			const moved = offset - this.#lastOffset;
			if (moved >= STEP_MS) {
				this.#stepped += moved;
				this.#until = monotonic + this.#holdMs;
			} else if (moved <= -STEP_MS) {
				// set back (a step forward undone, or a clock that was ahead): as much less is discounted
				this.#stepped = Math.max(0, this.#stepped + moved);
			}
		}
		this.#lastOffset = offset;
		return { wall, steady: wall - this.#stepped };
	}
}
