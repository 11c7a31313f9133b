import { REFRESH_MARGIN_FRACTION, REFRESH_MARGIN_MS } from './constants.ts';
import type { TokenSet } from './stored-types.ts';
import type { TokenResponse } from './token-response.ts';

/**
 * the token set to store for a token response from `issuer`, for the PDS at `aud`. `sentAt` is
 * when the token request was sent: `expires_in` counts from the server's answer, so counting it
 * from any later moment would make the tokens seem to live longer than they do.
 */
export const toTokenSet = (
	response: TokenResponse,
	issuer: string,
	aud: string,
	sentAt: number,
	previousRefreshToken?: string,
): TokenSet => {
	return {
		iss: issuer,
		sub: response.sub,
		aud,
		scope: response.scope,
		access_token: response.access_token,
		// RFC 6749 §6: a server that issues no new refresh token leaves the old one valid
		refresh_token: response.refresh_token ?? previousRefreshToken,
		token_type: 'DPoP',
		expires_at: response.expires_in === undefined ? undefined : sentAt + response.expires_in * 1000,
		issued_at: sentAt,
	};
};

/**
 * how long before `expiresAt` a token issued at `issuedAt` is refreshed: `REFRESH_MARGIN_MS`, or
 * a share of its lifetime when that is less.
 */
const refreshMargin = (expiresAt: number, issuedAt: number | undefined): number => {
	// a session stored without issued_at (an earlier release), or with a lifetime that is not
	// positive (a hand-edited store), gets the full margin, as before
	const lifetime = issuedAt === undefined ? Number.NaN : expiresAt - issuedAt;
	return lifetime > 0 ? Math.min(REFRESH_MARGIN_MS, lifetime * REFRESH_MARGIN_FRACTION) : REFRESH_MARGIN_MS;
};

/**
 * whether the access token expires within its refresh margin (tokens without expiry never do).
 * the margin is 60 s, or a quarter of the token's lifetime when that is shorter: a short-lived
 * token (60 s or less) would otherwise be stale on arrival and spend a refresh at every call.
 */
export const isStale = ({ expires_at, issued_at }: TokenSet, now: number): boolean => {
	return expires_at !== undefined && expires_at - refreshMargin(expires_at, issued_at) <= now;
};
