import { OAuthCallbackError } from '../errors.ts';
import type { StoredState } from '../stored-types.ts';
import { formatVersionProblemOf, nonTextJwkMember } from './read-stored-session.ts';

/** the three fields upstream `@atcute/oauth-node-client` 2.x names otherwise in a stored state. */
interface UpstreamStateFields {
	pkceVerifier?: unknown;
	sub?: unknown;
	userState?: unknown;
}

const refuse = (why: string): never => {
	throw new OAuthCallbackError('invalid_state', `the stored state cannot complete a sign-in: ${why}`);
};

/**
 * a state taken from the store, in this library's shape. a sign-in started by upstream
 * `@atcute/oauth-node-client` 2.x before a deploy stored `pkceVerifier`, `sub` and `userState`
 * where this library stores `verifier`, `expectedDid` and `appState`: each is read under either
 * name, so that sign-in completes (its expected account still checked, its app state handed back).
 * @throws {OAuthCallbackError} `invalid_state` when the entry lacks what the exchange needs (a
 *   missing verifier would otherwise be sent as the text "undefined"), or is in a newer format (`v`)
 */
export const readStoredState = (value: unknown): StoredState => {
	if (typeof value !== 'object' || value === null) return refuse('it is not an object');
	// first: a newer format may pass the checks below and still mean something else
	const newer = formatVersionProblemOf(value as Record<string, unknown>);
	if (newer !== undefined) return refuse(newer);
	const state = value as Partial<StoredState> & UpstreamStateFields;
	const verifier = state.verifier ?? state.pkceVerifier;
	if (typeof verifier !== 'string' || verifier === '') return refuse('it has no PKCE verifier');
	if (typeof state.issuer !== 'string') return refuse('it has no issuer');
	if (typeof state.redirectUri !== 'string') return refuse('it has no redirect URI');
	if (typeof state.dpopKey !== 'object' || state.dpopKey === null) return refuse('it has no DPoP key');
	const member = nonTextJwkMember(state.dpopKey as unknown as Record<string, unknown>);
	if (member !== undefined) return refuse(`its DPoP key's ${member} is not a string`);
	if (typeof state.authMethod?.method !== 'string') return refuse('it has no client authentication method');
	if (typeof state.expiresAt !== 'number') return refuse('it has no expiry');
	// this library's own: as it is
	if (state.verifier !== undefined) return state as StoredState;
	return {
		...(state as StoredState),
		verifier,
		expectedDid: (state.expectedDid ?? state.sub) as StoredState['expectedDid'],
		appState: state.appState ?? state.userState,
	};
};
