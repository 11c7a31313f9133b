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
 * token used instead: the failure is transient and the token has not expired. during an outage of
 * the authorization server, a token inside its refresh margin still works at the PDS; one that
 * has expired does not, and the failure is thrown.
 */
export const canUseUnexpired = (error: unknown, tokenSet: TokenSet, now: number): boolean => {
	return isTransient(error) && tokenSet.expires_at !== undefined && tokenSet.expires_at > now;
};
