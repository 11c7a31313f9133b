import type { Did } from '@atcute/lexicons';
import { setNewest } from '@atcute-oauth/internal/set-newest';

import { OAuthTransientError, type TransientErrorKind } from '../errors.ts';

/** accounts remembered at most: a rate limit on a server with many accounts must not grow this without end. */
const MAX_HELD = 10_000;

/**
 * what tells the refresh token turned away from the account's next ones: its length and two 32-bit
 * FNV-1a hashes of its characters (two starting values, two primes). not the token itself, which
 * must not stay in memory after its session (nor be readable from a heap dump). every character
 * counts: a server's tokens may share a prefix or a suffix. a collision, however unlikely, would
 * hold back the next session's refreshes until the wait ends, as the old one's were.
 */
const fingerprintOf = (refreshToken: string): string => {
	let a = 0x811c9dc5;
	let b = 0x01000193;
	for (let i = 0; i < refreshToken.length; i++) {
		const code = refreshToken.charCodeAt(i);
		a = Math.imul(a ^ code, 0x01000193);
		b = Math.imul(b ^ code, 0x0100019d);
	}
	return `${refreshToken.length}:${(a >>> 0).toString(36)}:${(b >>> 0).toString(36)}`;
};

/** the errors `check` made: refreshes that were never sent. */
const heldBack = new WeakSet<OAuthTransientError>();

/** whether `err` is a refresh `RetryAfterHolds` held back, with nothing sent. */
export const isHeldBack = (err: unknown): boolean => err instanceof OAuthTransientError && heldBack.has(err);

interface Hold {
	/** the refresh token turned away (`fingerprintOf`): a session holding another is not held back. */
	refreshToken: string;
	/** when the server's answer arrived, on our clock. */
	from: number;
	/** when its `Retry-After` ends. */
	until: number;
	kind: TransientErrorKind;
	status: number | undefined;
}

/**
 * the accounts whose last refresh the authorization server turned away with a `Retry-After` (a 429
 * or 5xx answer), and until when. that refresh token is not sent again before then, whatever asks
 * for it: the server said when a follow-up request is worth making (RFC 9110 §10.2.3), and each one
 * sent sooner would only be turned away again, adding to the load it is shedding. a session that
 * holds another refresh token (another process refreshed it, the account signed in again) is not
 * held back: nothing was said about it.
 */
export class RetryAfterHolds {
	readonly #held = new Map<Did, Hold>();
	readonly #now: () => number;

	constructor(now: () => number) {
		this.#now = now;
	}

	/** notes `err`, the refresh of `did` with `refreshToken` failing, when the server said how long to wait. */
	note(did: Did, refreshToken: string, err: unknown): void {
		if (!(err instanceof OAuthTransientError) || !err.retryAfterMs) return;
		const from = this.#now();
		// the oldest goes first: dropping one costs at most one early refresh
		const hold = {
			refreshToken: fingerprintOf(refreshToken),
			from,
			until: from + err.retryAfterMs,
			kind: err.kind,
			status: err.status,
		};
		setNewest(this.#held, did, hold, MAX_HELD);
	}

	/**
	 * the error the refresh of `did` with `refreshToken` fails with instead of being sent, while
	 * the server's `Retry-After` lasts; `undefined` when it may be sent.
	 */
	check(did: Did, refreshToken: string): OAuthTransientError | undefined {
		if (this.#held.size === 0) return undefined;
		const hold = this.#held.get(did);
		if (hold === undefined) return undefined;
		const now = this.#now();
		if (now >= hold.until || hold.refreshToken !== fingerprintOf(refreshToken)) {
			this.#held.delete(did);
			return undefined;
		}
		if (now < hold.from) {
			// a clock set back: the wait counts again from here, never longer than the server asked
			hold.until = now + (hold.until - hold.from);
			hold.from = now;
		}
		const left = hold.until - now;
		const held = new OAuthTransientError(
			hold.kind,
			`the refresh of ${did} was not sent: the authorization server asked to wait ${Math.ceil(left / 1000)} s more (Retry-After)`,
			hold.status,
			{ retryAfterMs: left },
		);
		heldBack.add(held);
		return held;
	}
}
