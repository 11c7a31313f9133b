import { AuthMethodUnsatisfiableError, TokenRefreshError } from '../errors.ts';
import type { SessionDeletedCause } from '../session-events.ts';

/**
 * the one rule for ending a session on an error: the cause when `error` is definitive, else
 * `undefined` (the session is kept). definitive means the session can never work again: the
 * server refused its refresh token, it has none, the server's answer was for another account,
 * the account's identity now leads to another issuer, its refreshed tokens were lost, or its
 * key left the keyset. network errors, time-outs, 5xx, 429, unreadable answers and unresolvable
 * identities never are.
 * @see https://atproto.com/specs/oauth#tokens-and-session-management
 */
export const sessionEndCause = (error: unknown): SessionDeletedCause | undefined => {
	if (error instanceof TokenRefreshError) return error.reason;
	if (error instanceof AuthMethodUnsatisfiableError) return 'key_removed';
	return undefined;
};
