import type { ClientAuthMethod, StoredState } from '@atcute/oauth-client';

import { authMethodOf, dpopKeyOf, failIn, isObject } from './internal/node-saved-fields.ts';

/** options for `fromNodeSavedState`. */
export interface FromNodeSavedStateOptions {
	/**
	 * the redirect URI the sign-in was started with: that client does not store it. the first of
	 * its `redirect_uris`, unless `authorize()` was given another.
	 */
	redirectUri: string;
	/** the client authentication for a state stored without one (see `fromNodeSavedSession`). */
	authMethod?: ClientAuthMethod | undefined;
	/** how long the sign-in has left to complete, in milliseconds (default 10 minutes, a day at most). */
	ttl?: number | undefined;
	/** the clock (default `Date.now`). */
	now?: (() => number) | undefined;
}

/** how long a moved sign-in has to complete by default: as long as one started here. */
const STATE_TTL_MS = 10 * 60 * 1000;

/** the longest `ttl`: a sign-in is minutes long, and a store must be able to keep the expiry. */
const MAX_STATE_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * converts a sign-in under way that `@atproto/oauth-client-node` stored in its `stateStore` (its
 * `NodeSavedState`: `iss`, `dpopJwk`, `authMethod`, `verifier`, `appState`), keyed by the OAuth
 * `state`, to what this client stores under the same key: a user who started signing in on the
 * old client completes it here. `callback()` then hands back its `appState` as `state`; it checks
 * no expected account (that client stored none).
 * @throws {TypeError} naming the member that is missing or malformed, never its value
 */
export const fromNodeSavedState = (saved: unknown, options: FromNodeSavedStateOptions): StoredState => {
	const fail = failIn('fromNodeSavedState');
	const { redirectUri, ttl = STATE_TTL_MS, now = Date.now } = options;
	if (typeof redirectUri !== 'string' || !URL.canParse(redirectUri)) {
		return fail('options.redirectUri is not a URL (that client does not store it)');
	}
	if (!Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_STATE_TTL_MS) {
		return fail('options.ttl is not a positive number of milliseconds, a day at most');
	}
	if (!isObject(saved)) return fail('the saved state is not an object');
	if (typeof saved.iss !== 'string' || !URL.canParse(saved.iss)) return fail('iss is not a URL');
	if (typeof saved.verifier !== 'string' || saved.verifier === '') return fail('verifier is not a string');
	// a store may give back an absent value as null (a NULL column), which that client reads as none
	const appState = saved.appState ?? undefined;
	if (appState !== undefined && typeof appState !== 'string') return fail('appState is not a string');
	return {
		issuer: saved.iss,
		dpopKey: dpopKeyOf(saved.dpopJwk, fail),
		authMethod: authMethodOf(saved.authMethod ?? options.authMethod, fail),
		verifier: saved.verifier,
		redirectUri,
		...(appState === undefined ? {} : { appState }),
		expiresAt: now() + ttl,
	};
};
