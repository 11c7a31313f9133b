import type { Did } from '@atcute/lexicons';

import type { OAuthSession } from './oauth-session.ts';

/**
 * why a session ended:
 * - `signed_out`: `session.signOut()`;
 * - `revoked`: `oauth.revoke(did)`;
 * - `invalid_grant`: the authorization server refused the refresh token (revoked or expired there);
 * - `no_refresh_token`: the session had no refresh token left;
 * - `sub_mismatch`: the refreshed tokens were for another account;
 * - `invalid_response`: the server's answer to a refresh failed the atproto checks (its tokens
 *   were revoked, and the old refresh token was spent);
 * - `key_removed`: the client key the session was bound to left the keyset, or its `kid` now
 *   names other key material;
 * - `issuer_changed`: the account's identity now leads to another authorization server;
 * - `store_failed`: the refreshed tokens could not be stored after the old refresh token was spent
 *   (a transient store error is tried three times first).
 */
export type SessionDeletedCause =
	| 'signed_out'
	| 'revoked'
	| 'invalid_grant'
	| 'no_refresh_token'
	| 'sub_mismatch'
	| 'invalid_response'
	| 'key_removed'
	| 'issuer_changed'
	| 'store_failed';

/** a session was stored: after a sign-in (`callback()`) or a refresh. */
export interface SessionUpdatedEvent {
	/** what happened: `updated`, the session was stored. */
	type: 'updated';
	/** the account. */
	sub: Did;
	/** the session as stored. */
	session: OAuthSession;
}

/** a session ended and was deleted from the store. */
export interface SessionDeletedEvent {
	/** what happened: `deleted`, the session ended. */
	type: 'deleted';
	/** the account. */
	sub: Did;
	/** why it ended. */
	cause: SessionDeletedCause;
	/**
	 * for `signed_out` and `revoked` only: whether the authorization server confirmed the
	 * revocation of the grant (its refresh token, or the access token when there was none). false
	 * when it could not be reached in time, refused, or has no revocation endpoint: the grant may
	 * then live on there until it expires, though the session is gone here. true is the server's
	 * word: the reference server answers 200 even to a request it refused (RFC 7009 §2.2).
	 */
	revokedAtServer?: boolean;
}

/** what `addEventListener` listeners receive. */
export type OAuthSessionEvent = SessionUpdatedEvent | SessionDeletedEvent;

/**
 * a listener for session events. called after the store write, never awaited (it may run before
 * the refresh lock is released, but never holds it up): what it returns and what it throws are
 * ignored. each listener gets its own copy of the event object.
 */
export type SessionEventListener = (event: OAuthSessionEvent) => unknown;
