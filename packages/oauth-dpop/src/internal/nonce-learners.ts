import { setNewest } from '@atcute-oauth/internal/set-newest';
import { settleBefore } from '@atcute-oauth/internal/settle-before';
import { settleWithin } from '@atcute-oauth/internal/settle-within';
import { isSignalLike } from '@atcute-oauth/internal/signal-like';

import type { DpopNonceCache } from '../dpop-nonce-cache.ts';

/**
 * how long a request waits for another's answer to learn its origin's nonce. the learner's first
 * answer is normally a quick refusal (`use_dpop_nonce`); past this, a learner that hangs costs the
 * others no more than one refused request each, as before.
 */
const LEARN_WAIT_MS = 10_000;

/** how long an origin that accepted a proof without a nonce is taken not to use nonces. */
const NONCELESS_MS = 10 * 60_000;

/** how many origins taken not to use nonces are remembered, newest kept. */
const MAX_NONCELESS = 1000;

/** what a request to an origin whose nonce is unknown does: learn it, or wait for one that does. */
export type NonceTurn =
	/** this request learns it: call with its answer once it arrives (undefined when it failed). */
	| { learn: (response: Response | undefined) => void }
	/** another request learnt it (or gave up): read the nonce again. */
	| undefined;

/**
 * the requests out to learn an origin's nonce. while one is, the other requests to that origin
 * wait for its answer rather than send proofs without a nonce, which a server that uses nonces
 * refuses: a burst of calls from a new process cost a refused request each (2,000 calls, 2,000
 * refusals; the proofs of calls queued behind a transport's request limit are signed before they
 * wait, so all of them went without).
 */
export class NonceLearners {
	/** per origin, the answer of the request learning its nonce, settled when it arrives. */
	readonly #out = new Map<string, Promise<void>>();
	/**
	 * the origins that accepted a proof without a nonce, until when (`performance.now()`, which
	 * no clock step moves): none of their requests wait.
	 */
	readonly #nonceless = new Map<string, number>();

	/**
	 * the turn of a request to `origin`, whose nonce is unknown: the learner's, or a wait (up to
	 * `LEARN_WAIT_MS`, or until `signal` aborts) for the learner's answer.
	 * @throws the signal's reason when it aborts while waiting
	 */
	async take(origin: string, signal: AbortSignal | null | undefined): Promise<NonceTurn> {
		const until = this.#nonceless.get(origin);
		if (until !== undefined) {
			if (performance.now() < until) return undefined;
			this.#nonceless.delete(origin);
		}
		const out = this.#out.get(origin);
		if (out === undefined) return { learn: this.#learner(origin) };
		const answered = settleWithin(out, LEARN_WAIT_MS);
		await (isSignalLike(signal) ? settleBefore(answered, signal) : answered);
		return undefined;
	}

	#learner(origin: string): (response: Response | undefined) => void {
		let settle!: () => void;
		const out = new Promise<void>((resolve) => {
			settle = resolve;
		});
		this.#out.set(origin, out);
		let done = false;
		return (response) => {
			if (done) return;
			done = true;
			if (this.#out.get(origin) === out) this.#out.delete(origin);
			// a proof without a nonce accepted: the server uses none, and a wait would be for nothing
			if (response !== undefined && response.status < 400 && !response.headers.has('dpop-nonce')) {
				setNewest(this.#nonceless, origin, performance.now() + NONCELESS_MS, MAX_NONCELESS);
			}
			settle();
		};
	}
}

// per nonce cache: the fetches that share one (a client's sessions) share what they learn, and
// so who learns it
const byCache = new WeakMap<DpopNonceCache, NonceLearners>();

/** the learners of the fetches that keep their nonces in `cache`. */
export const nonceLearnersOf = (cache: DpopNonceCache): NonceLearners => {
	let learners = byCache.get(cache);
	if (learners === undefined) {
		learners = new NonceLearners();
		byCache.set(cache, learners);
	}
	return learners;
};
