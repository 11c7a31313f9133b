import type { Did } from '@atcute/lexicons';

import { OAuthTransientError, type TransientErrorKind } from '../errors.ts';

/** accounts remembered at most: a rate limit on a server with many accounts must not grow this without end. */
const MAX_HELD = 10_000;

interface Hold {
	/** when the server's answer arrived, on our clock. */
	from: number;
	/** when its `Retry-After` ends. */
	until: number;
	kind: TransientErrorKind;
	status: number | undefined;
}

/**
 * the accounts whose last refresh the authorization server turned away with a `Retry-After` (a 429
 * or 5xx answer), and until when. no refresh of theirs is sent before then, whatever asked for it:
 * the server said when a follow-up request is worth making (RFC 9110 §10.2.3), and each one sent
 * sooner would only be turned away again, adding to the load it is shedding.
 */
export class RetryAfterHolds {
	readonly #held = new Map<Did, Hold>();
	readonly #now: () => number;

	constructor(now: () => number) {
		this.#now = now;
	}

	/** notes `err`, a refresh of `did` failing, when the server said how long to wait. */
	note(did: Did, err: unknown): void {
		if (!(err instanceof OAuthTransientError) || !err.retryAfterMs) return;
		const from = this.#now();
		this.#held.delete(did);
		// the oldest first (a Map keeps insertion order): dropping one costs at most one early refresh
		if (this.#held.size >= MAX_HELD) this.#held.delete(this.#held.keys().next().value!);
		this.#held.set(did, { from, until: from + err.retryAfterMs, kind: err.kind, status: err.status });
	}

	/**
	 * the error a refresh of `did` fails with instead of being sent, while the server's
	 * `Retry-After` lasts; `undefined` when it may be sent.
	 */
	check(did: Did): OAuthTransientError | undefined {
		if (this.#held.size === 0) return undefined;
		const hold = this.#held.get(did);
		if (hold === undefined) return undefined;
		const now = this.#now();
		// a clock set back before the answer ends the hold: it must not stretch the server's wait
		if (now >= hold.until || now < hold.from) {
			this.#held.delete(did);
			return undefined;
		}
		const left = hold.until - now;
		return new OAuthTransientError(
			hold.kind,
			`the refresh of ${did} was not sent: the authorization server asked to wait ${Math.ceil(left / 1000)} s more (Retry-After)`,
			hold.status,
			{ retryAfterMs: left },
		);
	}
}
