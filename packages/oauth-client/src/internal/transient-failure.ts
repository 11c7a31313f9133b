import { DiscoveryError } from '@atcute/oauth-discovery';

import { InvalidResponseError, OAuthResponseError } from '../errors.ts';
import type { TokenSet } from '../stored-types.ts';

/**
 * whether an error says to try again later: it has `transient: true` (`OAuthTransientError`,
 * `LockTimeoutError`, a transient `LockUnavailableError` or `DiscoveryError`).
 */
export const isTransient = (error: unknown): boolean => {
	return typeof error === 'object' && error !== null && (error as { transient?: unknown }).transient === true;
};

/**
 * whether a proactive refresh that failed with `error` may be passed over, the current access
 * token used instead: the token has not expired, and the failure is transient, or is the
 * authorization server's answer without tokens that did not end the session (an OAuth error
 * other than `invalid_grant`, which ends it before this is asked; an answer it could not read),
 * or its metadata refused before anything was sent (a front server's page served with 200 during
 * maintenance reads so). during an outage of the authorization server, or while it refuses for a
 * reason of its own, a token inside its refresh margin still works at the PDS; one that has
 * expired does not, and the failure is thrown. `stillValid`: see `isUnexpired`. anything else (a lock that is not one, a bug) is
 * thrown at once.
 */
export const canUseUnexpired = (
	error: unknown,
	tokenSet: TokenSet,
	now: number,
	stillValid?: (tokenSet: TokenSet) => boolean,
): boolean => {
	const passable =
		isTransient(error) ||
		error instanceof OAuthResponseError ||
		error instanceof InvalidResponseError ||
		error instanceof DiscoveryError;
	return passable && isUnexpired(tokenSet, now, stillValid);
};

/**
 * whether `tokenSet`'s access token has not expired at `now`, or, past it, `stillValid` says it
 * has not on a clock that never steps (`MonotonicLifetimes`: the wall clock stepped forward).
 */
export const isUnexpired = (
	tokenSet: TokenSet,
	now: number,
	stillValid?: (tokenSet: TokenSet) => boolean,
): boolean =>
	(tokenSet.expires_at !== undefined && tokenSet.expires_at > now) || stillValid?.(tokenSet) === true;
