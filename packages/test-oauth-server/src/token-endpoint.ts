import { authenticateAsRequest } from './as-request.ts';
import type { TokenFailure } from './behaviour.ts';
import { sameClientAuth } from './client-auth.ts';
import { HttpError } from './internal/http-error.ts';
import { sha256Base64url } from './internal/sha256.ts';
import { ONE_MIB_PADDING } from './metadata.ts';
import type { Exchange, ServerContext } from './server-context.ts';
import { type Session, TokenStore } from './token-store.ts';

const invalidGrant = (description: string): HttpError => new HttpError(400, 'invalid_grant', description);

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** new access token (and its expiry, server clock ms) for a session. */
const mintAccessToken = async (
	ctx: ServerContext,
	session: Pick<Session, 'did' | 'scope' | 'clientId' | 'jkt'>,
): Promise<{ token: string; expiresAt: number; ttl: number }> => {
	const ttl = ctx.behaviour.accessTokenTtl ?? ctx.options.accessTokenTtl;
	const now = ctx.now();
	const iat = Math.floor(now / 1000);
	const token = await ctx.signer.mint({
		sub: session.did,
		aud: ctx.urls.pds,
		scope: session.scope,
		clientId: session.clientId,
		jkt: session.jkt,
		iat,
		exp: iat + ttl,
	});
	return { token, expiresAt: now + ttl * 1000, ttl };
};

/** the token response of a session, with the misbehaviour overrides applied. */
const tokenResponse = (ctx: ServerContext, session: Session, ttl: number): Record<string, unknown> => {
	const { behaviour } = ctx;
	const body: Record<string, unknown> = {
		access_token: session.accessToken,
		token_type: behaviour.tokenTypeOverride ?? 'DPoP',
		refresh_token: behaviour.omitRefreshToken ? undefined : session.refreshToken,
		scope: behaviour.tokenScopeOverride ?? session.scope,
		expires_in: ttl,
		sub: behaviour.subOverride ?? session.did,
	};
	if (behaviour.oversizedTokenResponse) {
		body.padding = ONE_MIB_PADDING;
	}
	return body;
};

/**
 * answers a failure asked for through `behaviour` before the grant is processed; returns true
 * when it answered (or destroyed the socket). `network_after_rotation` is handled by the grant.
 */
const failBeforeGrant = (
	exchange: Exchange,
	failure: TokenFailure | undefined,
	revoke: () => void,
): boolean => {
	switch (failure) {
		case 'status_503':
			exchange.fail(
				new HttpError(503, 'temporarily_unavailable', 'Service unavailable (behaviour)', 'misbehaviour'),
			);
			return true;
		case 'status_429':
			exchange.record.error = 'rate_limited';
			exchange.json(
				429,
				{ error: 'RateLimitExceeded', error_description: 'Rate Limit Exceeded (behaviour)' },
				{ 'retry-after': '1', 'ratelimit-remaining': '0' },
			);
			return true;
		case 'network':
			exchange.destroy();
			return true;
		case 'invalid_grant':
			revoke();
			exchange.fail(
				new HttpError(400, 'invalid_grant', 'Invalid grant (behaviour: session revoked)', 'misbehaviour'),
			);
			return true;
		default:
			return false;
	}
};

/** `grant_type=authorization_code`. */
const authorizationCodeGrant = async (
	ctx: ServerContext,
	exchange: Exchange,
	params: ReadonlyMap<string, string>,
	checked: Awaited<ReturnType<typeof authenticateAsRequest>>,
): Promise<void> => {
	const { proof, client, auth } = checked;
	const code = params.get('code') ?? '';
	const entry = ctx.tokens.codes.get(code);

	const failure = ctx.behaviour.codeExchangeFailure;
	const revokeIssued = (): void => {
		if (entry !== undefined) entry.used = true;
	};
	if (failBeforeGrant(exchange, failure, revokeIssued)) return;

	if (entry === undefined) {
		throw invalidGrant('Invalid code');
	}
	if (entry.used) {
		// a replayed code: whatever was issued from it is revoked (RFC 6749 §4.1.2)
		const issued = entry.sessionId === undefined ? undefined : ctx.tokens.sessions.get(entry.sessionId);
		if (issued !== undefined) ctx.tokens.revoke(issued, 'authorization code replayed');
		throw invalidGrant('Invalid code: it was already used (the tokens issued from it are revoked)');
	}
	// from here on the code is spent, whatever the outcome, like the reference server
	entry.used = true;

	const { request } = entry;
	if (entry.expiresAt <= ctx.now()) {
		throw invalidGrant('Invalid code: expired');
	}
	if (request.clientId !== client.clientId) {
		throw invalidGrant('The code was not issued to this client');
	}
	const mismatch = sameClientAuth(request.clientAuth, auth);
	if (mismatch !== undefined) {
		throw invalidGrant(mismatch);
	}
	if (request.jkt !== proof.jkt) {
		throw invalidGrant('DPoP proof key differs from the one used for the pushed authorization request');
	}
	if (params.get('redirect_uri') !== request.redirectUri) {
		throw invalidGrant('The redirect_uri parameter must match the one used in the authorization request');
	}
	const verifier = params.get('code_verifier');
	if (verifier === undefined) {
		throw invalidGrant('code_verifier is required');
	}
	if (verifier.length < 43) {
		throw invalidGrant('code_verifier too short');
	}
	if (sha256Base64url(verifier) !== request.codeChallenge) {
		throw invalidGrant('Invalid code_verifier');
	}

	const base = { did: entry.did, scope: entry.scope, clientId: client.clientId, jkt: proof.jkt };
	const access = await mintAccessToken(ctx, base);
	const session: Session = {
		...base,
		id: TokenStore.newSessionId(),
		clientAuth: auth,
		accessToken: access.token,
		accessTokenExpiresAt: access.expiresAt,
		// like the reference server: refresh tokens only for clients that declare the grant
		refreshToken: client.grantTypes.includes('refresh_token') ? TokenStore.newRefreshToken() : undefined,
		refreshes: 0,
		revokedReason: undefined,
	};
	ctx.tokens.addSession(session);
	entry.sessionId = session.id;

	if (failure === 'network_after_rotation') {
		exchange.destroy();
		return;
	}
	ctx.stats.token.authorization_code += 1;
	exchange.json(200, tokenResponse(ctx, session, access.ttl), NO_STORE);
};

/** `grant_type=refresh_token`. */
const refreshTokenGrant = async (
	ctx: ServerContext,
	exchange: Exchange,
	params: ReadonlyMap<string, string>,
	checked: Awaited<ReturnType<typeof authenticateAsRequest>>,
): Promise<void> => {
	const { proof, client, auth } = checked;
	ctx.stats.refreshAttempts += 1;

	const refreshToken = params.get('refresh_token') ?? '';
	const sessionId = ctx.tokens.refreshTokens.get(refreshToken);
	const session = sessionId === undefined ? undefined : ctx.tokens.sessions.get(sessionId);

	const failure = ctx.behaviour.refreshFailure;
	const revokeSession = (): void => {
		if (session !== undefined) ctx.tokens.revoke(session, 'refresh failed (behaviour.refreshFailure)');
	};
	if (failBeforeGrant(exchange, failure, revokeSession)) return;

	if (session === undefined) {
		throw invalidGrant('Invalid refresh token');
	}
	if (session.revokedReason !== undefined) {
		throw invalidGrant(`Invalid refresh token: the session was revoked (${session.revokedReason})`);
	}
	if (session.refreshToken !== refreshToken) {
		// an old refresh token: the whole family is revoked, like the reference server
		ctx.tokens.revoke(session, 'refresh token replayed');
		throw invalidGrant('refresh token replayed');
	}

	// any failure from here revokes the session, like the reference server
	const fail = (description: string): never => {
		ctx.tokens.revoke(session, description);
		throw invalidGrant(description);
	};
	if (session.clientId !== client.clientId) {
		fail('Token was not issued to this client');
	}
	const mismatch = sameClientAuth(session.clientAuth, auth);
	if (mismatch !== undefined) {
		fail(mismatch);
	}
	if (session.jkt !== proof.jkt) {
		fail('DPoP proof key differs from the one the session is bound to');
	}

	const access = await mintAccessToken(ctx, session);
	ctx.tokens.rotate(session, access.token, access.expiresAt, TokenStore.newRefreshToken());

	if (failure === 'network_after_rotation') {
		exchange.destroy();
		return;
	}
	ctx.stats.token.refresh_token += 1;
	ctx.stats.refreshByDid.set(session.did, (ctx.stats.refreshByDid.get(session.did) ?? 0) + 1);
	exchange.json(200, tokenResponse(ctx, session, access.ttl), NO_STORE);
};

/**
 * `POST /oauth/token`: the code exchange and refresh, with the reference server's checks (see
 * the README); refresh tokens rotate and are single-use.
 */
export const tokenEndpoint = async (
	ctx: ServerContext,
	exchange: Exchange,
	params: ReadonlyMap<string, string>,
): Promise<void> => {
	await ctx.delay(ctx.behaviour.tokenDelayMs);
	const checked = await authenticateAsRequest(ctx, exchange, params);

	const grantType = params.get('grant_type');
	if (grantType === undefined) {
		throw new HttpError(400, 'invalid_request', '"grant_type" is required');
	}
	if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
		throw new HttpError(400, 'unsupported_grant_type', `Grant type "${grantType}" is not supported`);
	}
	if (!checked.client.grantTypes.includes(grantType)) {
		throw invalidGrant(`"${grantType}" grant type is not allowed for this client`);
	}

	if (grantType === 'authorization_code') {
		await authorizationCodeGrant(ctx, exchange, params, checked);
	} else {
		await refreshTokenGrant(ctx, exchange, params, checked);
	}
};
