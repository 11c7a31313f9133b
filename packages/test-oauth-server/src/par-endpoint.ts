import { authenticateAsRequest } from './as-request.ts';
import { matchesRedirectUri } from './client-metadata.ts';
import { HttpError } from './internal/http-error.ts';
import type { Exchange, ServerContext } from './server-context.ts';
import { type AuthorizationRequest, TokenStore } from './token-store.ts';

const PROMPTS = new Set(['none', 'login', 'consent', 'select_account', 'create']);
const RESPONSE_MODES = new Set(['query', 'fragment', 'form_post']);
const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

const invalidRequest = (description: string): HttpError => new HttpError(400, 'invalid_request', description);

/**
 * `POST /oauth/par` (RFC 9126): checks the proof, the client and the request parameters like
 * the reference server, stores the request bound to the proof key and answers 201 with its
 * `request_uri`.
 * @see https://atproto.com/specs/oauth#authorization-requests
 */
export const pushedAuthorizationRequest = async (
	ctx: ServerContext,
	exchange: Exchange,
	params: ReadonlyMap<string, string>,
): Promise<void> => {
	const { proof, client, auth } = await authenticateAsRequest(ctx, exchange, params);

	if (params.has('request')) {
		throw invalidRequest('request objects (JAR) are not supported by the test server');
	}
	if (params.has('request_uri')) {
		throw invalidRequest('"request_uri" is not allowed in a pushed authorization request');
	}

	const responseType = params.get('response_type');
	if (responseType === undefined) {
		throw invalidRequest('"response_type" is required');
	}
	if (responseType !== 'code') {
		throw new HttpError(400, 'unsupported_response_type', `Unsupported response_type "${responseType}"`);
	}

	const codeChallenge = params.get('code_challenge');
	if (codeChallenge === undefined) {
		throw invalidRequest('Use of PKCE is required: "code_challenge" is missing');
	}
	const method = params.get('code_challenge_method');
	if (method !== 'S256') {
		throw invalidRequest(`"code_challenge_method" must be "S256", got ${JSON.stringify(method ?? null)}`);
	}
	if (!CODE_CHALLENGE.test(codeChallenge)) {
		throw invalidRequest('"code_challenge" must be 43 base64url characters (S256)');
	}

	const state = params.get('state');
	if (state === undefined || state === '') {
		throw invalidRequest('"state" is required');
	}

	let redirectUri = params.get('redirect_uri');
	if (redirectUri === undefined) {
		if (client.redirectUris.length !== 1) {
			throw invalidRequest('"redirect_uri" is required when the client registered several');
		}
		redirectUri = client.redirectUris[0]!;
	} else if (!client.redirectUris.some((registered) => matchesRedirectUri(registered, redirectUri!))) {
		throw invalidRequest(`Invalid redirect_uri ${redirectUri}: not one of ${client.redirectUris.join(', ')}`);
	}

	const scope = params.get('scope');
	if (scope === undefined || scope === '') {
		throw invalidRequest('"scope" is required');
	}
	const requested = scope.split(' ').filter(Boolean);
	for (const token of requested) {
		// a literal comparison with the metadata, like the reference server
		if (!client.scopes.includes(token)) {
			throw new HttpError(400, 'invalid_scope', `Scope "${token}" is not declared in the client metadata`);
		}
	}
	if (!requested.includes('atproto')) {
		throw new HttpError(400, 'invalid_scope', 'The "atproto" scope is required');
	}

	const responseMode = params.get('response_mode') ?? 'query';
	if (!RESPONSE_MODES.has(responseMode)) {
		throw invalidRequest(`Unsupported response_mode "${responseMode}"`);
	}
	const prompt = params.get('prompt');
	if (prompt !== undefined && !PROMPTS.has(prompt)) {
		throw invalidRequest(`Unsupported prompt "${prompt}"`);
	}
	// as the reference server: a silent sign-in needs an authenticated (confidential) client
	if (prompt === 'none' && auth.method === 'none') {
		throw invalidRequest('Public clients are not allowed to use silent-sign-on');
	}
	const dpopJkt = params.get('dpop_jkt');
	if (dpopJkt !== undefined && dpopJkt !== proof.jkt) {
		throw invalidRequest('"dpop_jkt" does not match the DPoP proof key');
	}

	const request: AuthorizationRequest = {
		requestUri: TokenStore.newRequestUri(),
		clientId: client.clientId,
		clientAuth: auth,
		jkt: proof.jkt,
		redirectUri,
		state,
		scope: requested.join(' '),
		codeChallenge,
		responseMode: responseMode as AuthorizationRequest['responseMode'],
		loginHint: params.get('login_hint'),
		prompt,
		expiresAt: ctx.now() + ctx.options.parTtl * 1000,
		used: false,
	};
	ctx.tokens.requests.set(request.requestUri, request);

	const recorded: Record<string, string> = {};
	for (const [name, value] of params) {
		if (name !== 'client_assertion') recorded[name] = value;
	}
	ctx.stats.par += 1;
	ctx.stats.parRequests.push({
		clientId: client.clientId,
		params: recorded,
		requestUri: request.requestUri,
		jkt: proof.jkt,
	});

	exchange.json(
		201,
		{ request_uri: request.requestUri, expires_in: ctx.options.parTtl },
		{ 'cache-control': 'no-store' },
	);
};
