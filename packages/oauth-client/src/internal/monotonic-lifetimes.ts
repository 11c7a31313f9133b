import { setNewest } from '@atcute-oauth/internal/set-newest';

import type { TokenSet } from '../stored-types.ts';
import { tokenFingerprint } from './token-fingerprint.ts';

/** tokens remembered at most (one entry per token), the oldest going first. */
const MAX_TOKENS = 10_000;

/** a clock the wall clock's steps (NTP) do not move. */
const monotonicNow = (): number => performance.now();

/**
 * when each access token this client obtained expires, on a clock that never steps: its lifetime
 * (`expires_in`) counted from when its request was sent. asked only when a refresh before expiry
 * failed and the wall clock says the token has expired: after a forward step of the wall clock
 * (NTP setting a slow clock right), the token still works at the PDS, which the server's own
 * clock decides, and calls need not fail while the authorization server is down. that clock
 * stands still while the machine is suspended, though, when time does pass: a token it takes for
 * unexpired then may have expired at the PDS, which refuses it; a refused token is forgotten
 * (`forget`), and judged by the wall clock alone from then on, so that costs one refused request.
 * a token another client object or process obtained is not known here: its wall-clock expiry
 * stands. used only with the default `now`: a clock the app gives (a test's, or its own) is the
 * truth it asked for.
 */
export class MonotonicLifetimes {
	/** the monotonic deadline of each token (`tokenFingerprint`): not the token itself. */
	readonly #deadlines = new Map<string, number>();

	/** the monotonic time to note a request's sending with. */
	sentAt(): number {
		return monotonicNow();
	}

	/** notes `tokenSet`, obtained by a request sent at `sentAt` (`this.sentAt()`). */
	note(tokenSet: TokenSet, sentAt: number): void {
		const { expires_at, issued_at } = tokenSet;
		if (expires_at === undefined || issued_at === undefined) return;
		setNewest(
			this.#deadlines,
			tokenFingerprint(tokenSet.access_token),
			sentAt + (expires_at - issued_at),
			MAX_TOKENS,
		);
	}

	/** forgets `tokenSet`'s access token (the PDS refused it): its wall-clock expiry alone stands. */
	forget(tokenSet: TokenSet): void {
		if (this.#deadlines.size === 0) return;
		this.#deadlines.delete(tokenFingerprint(tokenSet.access_token));
	}

	/** whether `tokenSet`'s access token was obtained here, and has not expired on the monotonic clock. */
	unexpired(tokenSet: TokenSet): boolean {
		if (this.#deadlines.size === 0) return false;
		const deadline = this.#deadlines.get(tokenFingerprint(tokenSet.access_token));
		return deadline !== undefined && monotonicNow() < deadline;
	}
}
