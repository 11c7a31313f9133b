/**
 * how a refresh (`grant_type=refresh_token`) fails when asked to: `status_503` and `status_429`
 * answer with that status (429 with `Retry-After: 1`) and leave the refresh token usable;
 * `network` destroys the socket without an answer and leaves the refresh token usable;
 * `network_after_rotation` rotates the refresh token and then destroys the socket, so the new
 * tokens are lost (atproto#5411); `invalid_grant` answers 400 `invalid_grant` and revokes the
 * session, as when the server has revoked it.
 */
export type TokenFailure =
	| 'status_503'
	| 'status_429'
	| 'network'
	| 'network_after_rotation'
	| 'invalid_grant';

/** how a revocation request fails when asked to. */
export type RevokeFailure = 'status_503' | 'network';

/**
 * misbehaviour switches. each one changes only what it names; all are off by default and
 * `server.reset()` turns them all off again. the object is mutable: set fields on it directly.
 */
export interface TestServerBehaviour {
	// --- authorization redirect

	/** the authorization redirect carries this `iss` instead of the issuer. */
	issOverride?: string | undefined;
	/** the authorization redirect carries no `iss`. */
	omitIss?: boolean | undefined;
	/** the authorization redirect carries this `state` instead of the client's. */
	stateOverride?: string | undefined;

	// --- token endpoint

	/** token responses (both grants) carry this `sub`. */
	subOverride?: string | undefined;
	/** token responses carry this `scope` (the session keeps the real one). */
	tokenScopeOverride?: string | undefined;
	/** token responses carry this `token_type` instead of `DPoP`. */
	tokenTypeOverride?: string | undefined;
	/** token responses carry no `refresh_token`. */
	omitRefreshToken?: boolean | undefined;
	/** how `refresh_token` grants fail; checked after the DPoP proof and client authentication. */
	refreshFailure?: TokenFailure | undefined;
	/** how `authorization_code` grants fail (`network_after_rotation`: the code is spent, tokens issued, the answer lost). */
	codeExchangeFailure?: TokenFailure | undefined;
	/** milliseconds to wait before answering `/oauth/token`. */
	tokenDelayMs?: number | undefined;
	/** token responses are padded to 1 MiB. */
	oversizedTokenResponse?: boolean | undefined;
	/** seconds an access token lives, for tokens issued from now on; default the server option (3600). */
	accessTokenTtl?: number | undefined;

	// --- PAR and revocation

	/** milliseconds to wait before answering `/oauth/par`. */
	parDelayMs?: number | undefined;
	/** how `/oauth/revoke` fails. */
	revokeFailure?: RevokeFailure | undefined;
	/** milliseconds to wait before answering `/oauth/revoke`. */
	revokeDelayMs?: number | undefined;

	// --- authorization server metadata

	/** milliseconds to wait before answering `/.well-known/oauth-authorization-server`. */
	metadataDelayMs?: number | undefined;
	/** the authorization server metadata is padded to 1 MiB. */
	oversizedMetadata?: boolean | undefined;
	/** the authorization server metadata is answered by a 302 to the same document at another path. */
	redirectMetadata?: boolean | undefined;
	/** the authorization server metadata is served with this `content-type`. */
	metadataContentType?: string | undefined;
	/** fields merged over the authorization server metadata (`undefined` removes a field). */
	metadataOverrides?: Record<string, unknown> | undefined;

	// --- protected resource metadata and PDS

	/** milliseconds to wait before answering `/.well-known/oauth-protected-resource`. */
	resourceMetadataDelayMs?: number | undefined;
	/** the protected resource metadata is padded to 1 MiB. */
	oversizedResourceMetadata?: boolean | undefined;
	/** the protected resource metadata is answered by a 302 to the same document at another path. */
	redirectResourceMetadata?: boolean | undefined;
	/** fields merged over the protected resource metadata (`undefined` removes a field). */
	resourceMetadataOverrides?: Record<string, unknown> | undefined;
	/** the next authenticated PDS call gets 401 `invalid_token` even with a valid token (then this turns off). */
	invalidTokenOnce?: boolean | undefined;
	/** every authenticated PDS call gets 401 `invalid_token`, whatever its token (a PDS whose clock is far ahead, say). */
	refuseEveryToken?: boolean | undefined;
	/** milliseconds to wait before answering an authenticated PDS call. */
	resourceDelayMs?: number | undefined;

	// --- DPoP nonces

	/** after every verified proof the server (AS or PDS) switches to a new nonce, announced in that response. */
	rotateNonceEveryRequest?: boolean | undefined;
	/** every proof is refused with `use_dpop_nonce`, whatever its nonce: a client must give up after one retry. */
	rejectEveryNonce?: boolean | undefined;
	/** responses carry no `DPoP-Nonce` header (the client should refuse them, C19). */
	omitDpopNonceHeader?: boolean | undefined;

	// --- identity

	/** milliseconds to wait before the PLC directory answers. */
	didDocumentDelayMs?: number | undefined;
	/** how the PLC directory fails: `status_503` answers 503, `network` destroys the socket. */
	didDocumentFailure?: 'status_503' | 'network' | undefined;
	/** the `content-type` of DID documents; default `application/json` (plc.directory sends `application/did+ld+json`). */
	didDocumentContentType?: string | undefined;

	// --- clock

	/** the server clock runs this many seconds ahead (negative: behind) of the host clock: DPoP `iat`, assertions, expiries and the `Date` header. */
	clockSkewSeconds?: number | undefined;
}
