import { REFRESH_MARGIN_MS } from './constants.ts';
import type { TokenSet } from './stored-types.ts';
import type { TokenResponse } from './token-response.ts';

/** the token set to store for a token response from `issuer`, for the PDS at `aud`. */
export const toTokenSet = (
	response: TokenResponse,
	issuer: string,
	aud: string,
	now: number,
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
		expires_at: response.expires_in === undefined ? undefined : now + response.expires_in * 1000,
	};
};

/** whether the access token expires within the refresh margin (tokens without expiry never do). */
export const isStale = (tokenSet: TokenSet, now: number): boolean => {
	return tokenSet.expires_at !== undefined && tokenSet.expires_at - REFRESH_MARGIN_MS <= now;
};
