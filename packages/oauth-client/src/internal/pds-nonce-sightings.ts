import { answeredElsewhere } from '@atcute-oauth/internal/answered-elsewhere';
import { setNewest } from '@atcute-oauth/internal/set-newest';

import { NO_NONCE_MEMORY_MS, NONCE_FRESH_MS } from '../constants.ts';

/** a probe's key: an origin has no space, so the pair cannot be read two ways. */
const probeKey = (origin: string, accessToken: string): string => `${origin} ${accessToken}`;

/** PDS origins remembered at most: a client serving accounts on many PDSes must not grow this without end. */
const MAX_ORIGINS = 1000;

interface Sighting {
	/** when it was seen, on our clock. */
	at: number;
	/** whether that answer carried a `DPoP-Nonce` (false: a probe's answer without one). */
	nonce: boolean;
}

/**
 * when each PDS origin last answered with a `DPoP-Nonce` (the DPoP layer keeps the nonce itself),
 * and which ones answered a probe without one. in memory only: a new process has seen nothing.
 * a request whose body cannot be sent again (a stream) is not retried on `use_dpop_nonce`, so
 * before one is sent the nonce must be known to be current (`needsProbe`).
 */
export class PdsNonceSightings {
	readonly #seen = new Map<string, Sighting>();
	/** the probe under way per origin and access token: one entry while it runs, none after. */
	readonly #probes = new Map<string, Promise<void>>();
	readonly #now: () => number;

	constructor(now: () => number) {
		this.#now = now;
	}

	/**
	 * notes `response`, a PDS answer to a request sent to `origin`, when it carries a `DPoP-Nonce`.
	 * an answer from another origin (a redirect to a CDN) is not the PDS's: its nonce says nothing
	 * of the PDS's.
	 */
	note(origin: string, response: Response): void {
		if (!response.headers.has('dpop-nonce')) return;
		if (answeredElsewhere(response, origin)) return;
		setNewest(this.#seen, origin, { at: this.#now(), nonce: true }, MAX_ORIGINS);
	}

	/**
	 * notes that `origin` answered a probe with success and no `DPoP-Nonce`: it does not use nonces,
	 * and streams go there without a probe for `NO_NONCE_MEMORY_MS`. only a success counts: an
	 * error page of a proxy in front of the PDS carries no nonce either.
	 */
	noteProbe(origin: string, response: Response): void {
		if (!response.ok || response.headers.has('dpop-nonce')) return;
		// another origin's success (a redirect the fetch followed to a login page) says nothing of the PDS
		if (answeredElsewhere(response, origin)) return;
		setNewest(this.#seen, origin, { at: this.#now(), nonce: false }, MAX_ORIGINS);
	}

	/**
	 * whether a request to `origin` whose body cannot be sent again needs a probe first: its nonce
	 * was never seen, or seen `NONCE_FRESH_MS` ago or more (the server may have moved past it), or
	 * the nonce cache no longer holds it (`cached` false: it keeps fewer origins than this, or an
	 * app's own cache lost it).
	 */
	needsProbe(origin: string, cached: boolean): boolean {
		const sighting = this.#seen.get(origin);
		if (sighting === undefined) return true;
		const age = this.#now() - sighting.at;
		// a clock moved back counts as never seen: an age below zero says nothing
		if (age < 0 || age >= (sighting.nonce ? NONCE_FRESH_MS : NO_NONCE_MEMORY_MS)) return true;
		return sighting.nonce && !cached;
	}

	/**
	 * the probe of `origin` under way with `accessToken`, if any: streams of one session that need
	 * one at the same moment (a new process's first uploads) wait for it rather than each send
	 * their own. shared by token, not by origin alone: the probe also checks (and refreshes) the
	 * token the stream goes with; another account's probe checks nothing of this one's token, and
	 * may first wait for that account's refresh.
	 */
	probing(origin: string, accessToken: string): Promise<void> | undefined {
		return this.#probes.get(probeKey(origin, accessToken));
	}

	/** records `probe` as the one under way for `origin` with `accessToken`, until it settles. */
	probeStarted(origin: string, accessToken: string, probe: Promise<void>): void {
		const key = probeKey(origin, accessToken);
		this.#probes.set(key, probe);
		const done = () => {
			if (this.#probes.get(key) === probe) this.#probes.delete(key);
		};
		// handled here as well as by its caller: a failed probe is no unhandled rejection
		probe.then(done, done);
	}
}
