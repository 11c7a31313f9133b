import type { Did } from '@atcute/lexicons';
import type { DpopPrivateJwk } from '@atcute/oauth-dpop';

import type { Store } from './store.ts';

/**
 * how the client authenticates to the authorization server, fixed for a session's lifetime: with
 * the client key of `kid`, whose public key has the RFC 7638 thumbprint `jkt` (absent from
 * sessions stored by earlier releases or converted from another library: the `kid` alone binds
 * them), or as a public client.
 */
export type ClientAuthMethod =
	| { method: 'private_key_jwt'; kid: string; jkt?: string | undefined }
	| { method: 'none' };

/** the tokens of a session, as the authorization server issued them. */
export interface TokenSet {
	/** the issuer that granted them. */
	iss: string;
	/** the account. */
	sub: Did;
	/** the PDS (resource server) URL they are for. */
	aud: string;
	/** the granted scope, as the server returned it. */
	scope: string;
	/**
	 * the access token, bound to the session's DPoP key.
	 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
	 */
	access_token: string;
	/**
	 * the refresh token, for new tokens when the access token expires; absent when the server
	 * issued none (the session then cannot be refreshed).
	 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
	 */
	refresh_token?: string | undefined;
	/**
	 * always `DPoP`: the access token is sent with a DPoP proof.
	 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5
	 */
	token_type: 'DPoP';
	/** when the access token expires, in milliseconds since the epoch. */
	expires_at?: number | undefined;
	/**
	 * when the token request was sent, in milliseconds since the epoch: with `expires_at`, the
	 * token's lifetime, which bounds its refresh margin. absent from sessions stored by earlier
	 * releases (those refresh 60 s before expiry), which read past it.
	 */
	issued_at?: number | undefined;
	/**
	 * `true` when the PDS refused these tokens on their first use: the retry right after the
	 * refresh that brought them, itself made because the PDS refused the tokens before. until 30 s
	 * after `issued_at`, a refusal of them makes no other refresh: a PDS that refuses every token
	 * would otherwise cost a refresh per request. absent otherwise, and from sessions stored by
	 * earlier releases.
	 */
	refused_on_arrival?: boolean | undefined;
}

/** what is stored per account in the session store. holds secrets: keep the store private. */
export interface StoredSession {
	/** the session's DPoP key (a private key). */
	dpopKey: DpopPrivateJwk;
	/** the client authentication pinned for this session. */
	authMethod: ClientAuthMethod;
	/** the session's tokens, replaced on each refresh. */
	tokenSet: TokenSet;
	/**
	 * the `client_id` of the client that signed it in. a client of another `client_id` (a session
	 * store shared by two apps, each needing its own; or this app before its `client_id` moved)
	 * reads it as none of its own (`SessionNotFoundError` with `storedBy`), neither using its
	 * grant nor ending it; a sign-in there replaces it. loopback clients count as one. absent from
	 * sessions stored by earlier releases or converted from another library, which every client
	 * takes as its own.
	 */
	clientId?: string | undefined;
	/**
	 * the record's format version: absent from every record stored so far, and read as 1. a release
	 * that changes the record in a way earlier ones would misread writes a higher one, which they
	 * refuse (a session as unreadable, a state as `invalid_state`), leaving the record in place.
	 * fields added without such a change need none: readers keep fields they do not know.
	 */
	v?: 1 | undefined;
}

/** what is stored per authorization attempt in the state store, keyed by the OAuth `state`. */
export interface StoredState {
	/** the authorization server's issuer. */
	issuer: string;
	/** the DPoP key the authorization was started with (a private key). */
	dpopKey: DpopPrivateJwk;
	/** the client authentication the authorization was started with; the session keeps it. */
	authMethod: ClientAuthMethod;
	/** the PKCE code verifier. */
	verifier: string;
	/** the redirect URI sent in the PAR request; the token request must repeat it. */
	redirectUri: string;
	/** the account expected to sign in, when the flow started from a handle or DID. */
	expectedDid?: Did | undefined;
	/** the app's own state, handed back by `callback()`. */
	appState?: unknown;
	/** when this attempt expires, in milliseconds since the epoch; checked by the library. */
	expiresAt: number;
	/**
	 * the `client_id` that started the sign-in: a client of another one sharing the state store
	 * leaves it alone (absent from states stored before it was kept: any client's).
	 */
	clientId?: string | undefined;
	/**
	 * the record's format version: absent from every record stored so far, and read as 1. a release
	 * that changes the record in a way earlier ones would misread writes a higher one, which they
	 * refuse (a session as unreadable, a state as `invalid_state`), leaving the record in place.
	 * fields added without such a change need none: readers keep fields they do not know.
	 */
	v?: 1 | undefined;
}

/** the session store: keyed by DID, durable across restarts. */
export type SessionStore = Store<Did, StoredSession>;

/** the authorization state store: keyed by OAuth `state`, entries live for about 10 minutes. */
export type StateStore = Store<string, StoredState>;
