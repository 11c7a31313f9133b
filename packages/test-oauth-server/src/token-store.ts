import type { ClientAuth } from './client-auth.ts';
import { randomHex } from './internal/random.ts';

/** a pushed authorization request. */
export interface AuthorizationRequest {
	requestUri: string;
	clientId: string;
	clientAuth: ClientAuth;
	/** the DPoP key thumbprint the request is bound to. */
	jkt: string;
	redirectUri: string;
	state: string;
	scope: string;
	codeChallenge: string;
	responseMode: 'query' | 'fragment' | 'form_post';
	loginHint: string | undefined;
	prompt: string | undefined;
	/** server clock, ms. */
	expiresAt: number;
	/** set once the user answered: a request_uri is single-use. */
	used: boolean;
}

/** an authorization code. */
export interface AuthorizationCode {
	code: string;
	request: AuthorizationRequest;
	did: string;
	/** the scope the user granted. */
	scope: string;
	/** server clock, ms. */
	expiresAt: number;
	/** set on first presentation: a code is single-use. */
	used: boolean;
	/** the session issued from it, if any. */
	sessionId: string | undefined;
}

/** a token family: what one code exchange started, carried on by refreshes. */
export interface Session {
	id: string;
	did: string;
	clientId: string;
	clientAuth: ClientAuth;
	/** the DPoP key thumbprint the tokens are bound to. */
	jkt: string;
	scope: string;
	/** the current access token. */
	accessToken: string;
	/** server clock, ms. */
	accessTokenExpiresAt: number;
	/** the current refresh token; undefined when the client may not refresh. */
	refreshToken: string | undefined;
	/** how many times it was refreshed. */
	refreshes: number;
	/** why it ended; undefined while active. */
	revokedReason: string | undefined;
}

/** a session as `server.sessions()` shows it. */
export interface SessionInfo {
	did: string;
	clientId: string;
	scope: string;
	/** the DPoP key thumbprint the tokens are bound to. */
	jkt: string;
	authMethod: 'none' | 'private_key_jwt';
	/** the assertion key id, for `private_key_jwt`. */
	kid: string | undefined;
	active: boolean;
	revokedReason: string | undefined;
	refreshes: number;
	accessToken: string;
	refreshToken: string | undefined;
}

/** the requests, codes and token families of the authorization server. */
export class TokenStore {
	readonly requests: Map<string, AuthorizationRequest> = new Map();
	readonly codes: Map<string, AuthorizationCode> = new Map();
	readonly sessions: Map<string, Session> = new Map();
	/** every access token ever issued (current or replaced) to its session id. */
	readonly accessTokens: Map<string, string> = new Map();
	/** every refresh token ever issued (current or used) to its session id. */
	readonly refreshTokens: Map<string, string> = new Map();
	/**
	 * the sessions not revoked, in order: a long sweep leaves thousands of revoked ones behind,
	 * and the helpers that act on live sessions would walk them all on every call.
	 */
	readonly #active: Map<string, Session> = new Map();

	/** a new request_uri like the reference server's. */
	static newRequestUri(): string {
		return `urn:ietf:params:oauth:request_uri:${randomHex('req-', 16)}`;
	}

	/** a new authorization code like the reference server's. */
	static newCode(): string {
		return randomHex('cod-');
	}

	/** a new refresh token like the reference server's. */
	static newRefreshToken(): string {
		return randomHex('ref-');
	}

	/** a new session id. */
	static newSessionId(): string {
		return randomHex('tok-', 16);
	}

	/** adds a session and indexes its tokens. */
	addSession(session: Session): void {
		this.sessions.set(session.id, session);
		if (session.revokedReason === undefined) this.#active.set(session.id, session);
		this.accessTokens.set(session.accessToken, session.id);
		if (session.refreshToken !== undefined) {
			this.refreshTokens.set(session.refreshToken, session.id);
		}
	}

	/** replaces a session's tokens (a refresh): the old access token stops working, the old refresh token becomes a replay. */
	rotate(session: Session, accessToken: string, expiresAt: number, refreshToken: string | undefined): void {
		session.accessToken = accessToken;
		session.accessTokenExpiresAt = expiresAt;
		session.refreshToken = refreshToken;
		session.refreshes += 1;
		this.accessTokens.set(accessToken, session.id);
		if (refreshToken !== undefined) {
			this.refreshTokens.set(refreshToken, session.id);
		}
	}

	/** ends a session (its whole token family); a no-op when it already ended. */
	revoke(session: Session, reason: string): boolean {
		if (session.revokedReason !== undefined) return false;
		session.revokedReason = reason;
		// revocation is final: nothing brings a session back
		this.#active.delete(session.id);
		return true;
	}

	/** the session an access or refresh token or a code belongs to. */
	sessionOfToken(token: string): Session | undefined {
		const id =
			this.accessTokens.get(token) ?? this.refreshTokens.get(token) ?? this.codes.get(token)?.sessionId;
		return id === undefined ? undefined : this.sessions.get(id);
	}

	/** the sessions not revoked, oldest first. */
	active(): IterableIterator<Session> {
		return this.#active.values();
	}

	/** a readable copy of the sessions, optionally of one DID, optionally only the active ones. */
	list(did?: string, activeOnly = false): SessionInfo[] {
		const list: SessionInfo[] = [];
		for (const session of activeOnly ? this.#active.values() : this.sessions.values()) {
			if (did !== undefined && session.did !== did) continue;
			list.push({
				did: session.did,
				clientId: session.clientId,
				scope: session.scope,
				jkt: session.jkt,
				authMethod: session.clientAuth.method,
				kid: session.clientAuth.method === 'private_key_jwt' ? session.clientAuth.kid : undefined,
				active: session.revokedReason === undefined,
				revokedReason: session.revokedReason,
				refreshes: session.refreshes,
				accessToken: session.accessToken,
				refreshToken: session.refreshToken,
			});
		}
		return list;
	}
}
