import { allowManyAbortListeners } from '@atcute-oauth/internal/allow-many-abort-listeners';
import { setNewest } from '@atcute-oauth/internal/set-newest';
import { isSignalLike } from '@atcute-oauth/internal/signal-like';

import type { DpopNonceCache } from '../dpop-nonce-cache.ts';

/**
 * how long the requests to an origin wait for one that learns its nonce, counted from when that
 * one went. its first answer is normally a quick refusal (`use_dpop_nonce`); past this, the others
 * go without a nonce (a refusal each, as when nobody learnt for them), and the next request learns.
 */
const LEARN_WAIT_MS = 5_000;

/** how long an origin that answered a learner without a nonce is not waited for (unless it sends one). */
const NONCELESS_MS = 10 * 60_000;

/** how many such origins are remembered, newest kept. */
const MAX_NONCELESS = 1000;

/** the learning of one origin's nonce: until when it is waited for, and who waits. */
export interface Learning {
	/** `performance.now()` past which no request waits for it. */
	readonly until: number;
	/** the waiting requests, each let go with the nonce learnt (undefined: none). */
	readonly waiting: Set<(nonce: string | undefined) => void>;
}

/** a request's turn at an origin whose nonce it does not know. */
export type NonceTurn =
	/** it learns the nonce: report its answer with `answered`. */
	| { learning: Learning; nonce?: undefined }
	/** it waited: the nonce learnt meanwhile, or undefined (none came in time, or none is sent). */
	| { learning?: undefined; nonce: string | undefined };

/**
 * the requests waiting to learn each origin's nonce. when a request does not know its origin's
 * nonce, it learns it (its proof goes without one), and the requests to that origin made
 * meanwhile wait until a nonce comes from there, from any answer, and then go with it, rather
 * than each send a proof without a nonce that a server that uses nonces refuses: a burst of calls
 * from a new process cost a refusal each (2,000 calls, 2,000 refusals: all their proofs are signed
 * before the first answer comes).
 */
export class NonceLearners {
	/** per origin, the learning under way. */
	readonly #learning = new Map<string, Learning>();
	/** the origins that answered a learner without a nonce, until when (`performance.now()`). */
	readonly #nonceless = new Map<string, number>();

	/**
	 * the turn of a request to `origin`, whose nonce it does not know: to learn it, or to wait (at
	 * most until the learning's time is up, and never past `signal`) for it.
	 * @throws the signal's reason when it aborts while the request waits
	 */
	async take(origin: string, signal: AbortSignal | null | undefined): Promise<NonceTurn> {
		const now = performance.now();
		const nonceless = this.#nonceless.get(origin);
		if (nonceless !== undefined) {
			if (now < nonceless) return { nonce: undefined };
			this.#nonceless.delete(origin);
		}
		const learning = this.#learning.get(origin);
		if (learning !== undefined && now < learning.until) {
			return { nonce: await waitFor(learning, signal) };
		}
		// none under way, or one waited for long enough (it hangs): this request learns (those that
		// waited for the last one have gone, their time up too)
		const next: Learning = { until: now + LEARN_WAIT_MS, waiting: new Set() };
		this.#learning.set(origin, next);
		return { learning: next };
	}

	/** a new nonce came from `origin`, in any answer: whoever waits for one goes with it. */
	taught(origin: string, nonce: string): void {
		// it does use nonces, whatever an answer without one said
		if (this.#nonceless.size !== 0) this.#nonceless.delete(origin);
		const learning = this.#learning.get(origin);
		if (learning === undefined) return;
		this.#learning.delete(origin);
		release(learning, nonce);
	}

	/**
	 * the first answer to the request that learns (`learning`), after `taught` had its nonce if it
	 * brought one; undefined when it failed. one without a nonce lets the waiting requests go
	 * without one; a success (2xx) without one also says the origin may not use nonces (or not on
	 * that route): its requests do not wait for a while, unless it sends one.
	 */
	answered(origin: string, learning: Learning, response: Response | undefined): void {
		// taught already, or its time was up and another learns now: it speaks for no one
		if (this.#learning.get(origin) !== learning) return;
		if (response !== undefined && response.status >= 200 && response.status < 300) {
			if (!response.headers.has('dpop-nonce')) {
				setNewest(this.#nonceless, origin, performance.now() + NONCELESS_MS, MAX_NONCELESS);
			}
		}
		this.#learning.delete(origin);
		release(learning, undefined);
	}
}

/** lets every request waiting on `learning` go, with `nonce`. */
const release = (learning: Learning, nonce: string | undefined): void => {
	for (const go of [...learning.waiting]) go(nonce);
};

/** the nonce `learning` brings, or undefined once its time is up; rejects when `signal` aborts. */
const waitFor = (learning: Learning, signal: AbortSignal | null | undefined): Promise<string | undefined> =>
	new Promise((resolve, reject) => {
		const watched = isSignalLike(signal) ? signal : undefined;
		const settle = () => {
			clearTimeout(timer);
			learning.waiting.delete(go);
			watched?.removeEventListener('abort', onAbort);
		};
		const go = (nonce: string | undefined) => {
			settle();
			resolve(nonce);
		};
		const onAbort = () => {
			settle();
			reject(watched!.reason);
		};
		const timer = setTimeout(() => go(undefined), Math.max(0, learning.until - performance.now()));
		learning.waiting.add(go);
		if (watched?.aborted) onAbort();
		else if (watched !== undefined) {
			// one signal on many calls (an app's shutdown signal) holds a listener for each waiting
			allowManyAbortListeners(watched);
			watched.addEventListener('abort', onAbort, { once: true });
		}
	});

// per nonce cache: the fetches that share one (a client's sessions) learn together
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
