import type { Did } from '@atcute/lexicons';
import { setNewest } from '@atcute-oauth/internal/set-newest';

import { OAuthTransientError } from '../errors.ts';
import type { TokenSet } from '../stored-types.ts';
import type { MonotonicLifetimes } from './monotonic-lifetimes.ts';
import { isHeldBack } from './retry-after-holds.ts';
import { tokenFingerprint } from './token-fingerprint.ts';
import { canUseUnexpired, isUnexpired } from './transient-failure.ts';

/**
 * how long, after a refresh made before expiry failed without ending the session (see
 * `canUseUnexpired`: transiently, or refused by the server for a reason that keeps it), calls go on with the unexpired
 * token without trying again: during an outage each try would wait out the time limit first.
 */
export const PROACTIVE_RETRY_MS = 30_000;

/** accounts remembered at most: an outage of a server with many accounts must not grow this without end. */
const MAX_DEFERRED = 10_000;

/**
 * the accounts whose refresh before expiry failed (as `canUseUnexpired` reads it) moments ago, and
 * until when their next try waits, while they hold the access token it failed for. a refresh asked
 * for (`refresh()`, a token the PDS refused) is never deferred here; the server's `Retry-After`
 * holds back every refresh of the account (`RetryAfterHolds`).
 */
export class RefreshDeferrals {
	/**
	 * until when, and for which access token (`tokenFingerprint`): a session holding another (the
	 * account signed in again, another process refreshed it) is not deferred, nothing failed for it.
	 */
	readonly #until = new Map<Did, { until: number; accessToken: string }>();
	readonly #now: () => number;
	/** whether a token past its wall-clock expiry has not expired on a clock that never steps. */
	readonly #stillValid: ((tokenSet: TokenSet) => boolean) | undefined;

	constructor(now: () => number, lifetimes?: MonotonicLifetimes) {
		this.#now = now;
		this.#stillValid = lifetimes === undefined ? undefined : (tokenSet) => lifetimes.unexpired(tokenSet);
	}

	/**
	 * the refresh made because `tokenSet`'s access token is about to expire: `refresh()`'s outcome,
	 * or `undefined` when the current token is used instead. that is when such a refresh of `did`
	 * failed moments ago, or when this one does in a way `canUseUnexpired` passes over and the token
	 * has not expired: an outage or a refusal of the authorization server does not stop a token that still works, and the calls of
	 * the next `PROACTIVE_RETRY_MS` (or the server's longer `Retry-After`) do not each wait on it
	 * again. an abort of `signal` is thrown.
	 */
	async beforeExpiry<T>(
		did: Did,
		tokenSet: TokenSet,
		refresh: () => Promise<T>,
		signal?: AbortSignal | null | undefined,
	): Promise<T | undefined> {
		if (this.#has(did, tokenSet)) return undefined;
		try {
			return await refresh();
		} catch (err) {
			if (signal?.aborted || !canUseUnexpired(err, tokenSet, this.#now(), this.#stillValid)) throw err;
			// a server that said how long to wait (Retry-After on a 429 or 503) is left alone that long.
			// a refresh held back for that wait cost no time limit: the pause is only what is left of it
			const asked = err instanceof OAuthTransientError ? (err.retryAfterMs ?? 0) : 0;
			this.#add(did, tokenSet, isHeldBack(err) ? asked : Math.max(PROACTIVE_RETRY_MS, asked));
			return undefined;
		}
	}

	/**
	 * forgets `did` (its session ended): an account signed out or erased is not kept in memory;
	 * a new session holds new tokens anyway.
	 */
	forget(did: Did): void {
		if (this.#until.size > 0) this.#until.delete(did);
	}

	/** whether the refresh before expiry of `did` waits: it failed moments ago, and `tokenSet` still works. */
	#has(did: Did, tokenSet: TokenSet): boolean {
		if (this.#until.size === 0) return false;
		const deferred = this.#until.get(did);
		if (deferred === undefined) return false;
		const now = this.#now();
		if (
			now < deferred.until &&
			isUnexpired(tokenSet, now, this.#stillValid) &&
			deferred.accessToken === tokenFingerprint(tokenSet.access_token)
		) {
			return true;
		}
		this.#until.delete(did);
		return false;
	}

	/**
	 * notes that the refresh before expiry of `did`, holding `tokenSet`, failed (and was passed
	 * over): the next waits `waitMs`.
	 */
	#add(did: Did, tokenSet: TokenSet, waitMs: number): void {
		const deferred = { until: this.#now() + waitMs, accessToken: tokenFingerprint(tokenSet.access_token) };
		// the oldest goes first
		setNewest(this.#until, did, deferred, MAX_DEFERRED);
	}
}
