import type { Did } from '@atcute/lexicons';
import { setNewest } from '@atcute-oauth/internal/set-newest';

import { OAuthTransientError, type TransientErrorKind } from '../errors.ts';
import { tokenFingerprint } from './token-fingerprint.ts';

/** accounts remembered at most: a rate limit on a server with many accounts must not grow this without end. */
const MAX_HELD = 10_000;

/** the errors `check` made: refreshes that were never sent. */
const heldBack = new WeakSet<OAuthTransientError>();

/** whether `err` is a refresh `RetryAfterHolds` held back, with nothing sent. */
export const isHeldBack = (err: unknown): boolean => err instanceof OAuthTransientError && heldBack.has(err);

interface Hold {
	/** the refresh token turned away (`tokenFingerprint`): a session holding another is not held back. */
	refreshToken: string;
	/** when the server's answer arrived, on our clock. */
	from: number;
	/** when its `Retry-After` ends. */
	until: number;
	kind: TransientErrorKind;
	status: number | undefined;
	/** who asked to wait, as the message names it. */
	asker: string;
}

/**
 * who asked to wait in `err`: the origin of the metadata document that answered so (a PDS's, or
 * an authorization server's read while resolving the account), else the authorization server.
 */
const askerOf = (err: OAuthTransientError): string => {
	const url = (err.cause as { url?: unknown } | undefined)?.url;
	if (typeof url === 'string') {
		try {
			return `server at ${new URL(url).origin}`;
		} catch {
			// not a URL: named as below
		}
	}
	return 'authorization server';
};

/**
 * the accounts whose last refresh the authorization server turned away with a `Retry-After` (a 429
 * or 5xx answer), or whose servers' metadata did before it was sent, and until when. that refresh token is not sent again before then, whatever asks
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
			refreshToken: tokenFingerprint(refreshToken),
			from,
			until: from + err.retryAfterMs,
			kind: err.kind,
			status: err.status,
			asker: askerOf(err),
		};
		setNewest(this.#held, did, hold, MAX_HELD);
	}

	/**
	 * forgets `did` (its session ended): an account signed out or erased is not kept in memory
	 * for the rest of a wait its server asked for; a new session holds new tokens anyway.
	 */
	forget(did: Did): void {
		if (this.#held.size > 0) this.#held.delete(did);
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
		if (now >= hold.until || hold.refreshToken !== tokenFingerprint(refreshToken)) {
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
			`the refresh of ${did} was not sent: the ${hold.asker} asked to wait ${Math.ceil(left / 1000)} s more (Retry-After)`,
			hold.status,
			{ retryAfterMs: left },
		);
		heldBack.add(held);
		return held;
	}
}
