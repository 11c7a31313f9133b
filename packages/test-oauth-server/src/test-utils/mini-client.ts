import { createHash, randomBytes } from 'node:crypto';

import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

import { CLIENT_ASSERTION_TYPE } from '../client-auth.ts';
import type { TestOAuthServer } from '../test-oauth-server.ts';

/** a key pair with its public JWK. */
export interface TestKey {
	privateKey: CryptoKey;
	publicJwk: JWK;
}

/** makes an ES256 key pair. */
export const makeKey = async (): Promise<TestKey> => {
	const { privateKey, publicKey } = await generateKeyPair('ES256');
	return { privateKey, publicJwk: await exportJWK(publicKey) };
};

export const random = (bytes = 16): string => randomBytes(bytes).toString('base64url');

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

/** what a DPoP proof says; every field can be overridden to build a bad proof. */
export interface ProofOptions {
	htm: string;
	htu: string;
	nonce?: string | undefined;
	accessToken?: string | undefined;
	ath?: string | undefined;
	jti?: string | undefined;
	iat?: number | undefined;
	key?: TestKey | undefined;
	typ?: string | undefined;
}

/** what a client assertion says; every field can be overridden to build a bad assertion. */
export interface AssertionOptions {
	iss?: string | undefined;
	sub?: string | undefined;
	aud?: string | undefined;
	jti?: string | undefined;
	iat?: number | undefined;
	/** `null`: none (the claim is optional). */
	exp?: number | null | undefined;
	kid?: string | null | undefined;
	key?: TestKey | undefined;
}

/** a token response. */
export interface Tokens {
	access_token: string;
	token_type: string;
	refresh_token?: string;
	scope: string;
	expires_in: number;
	sub: string;
}

/** a pending authorization: what the client keeps between PAR and the callback. */
export interface Pending {
	state: string;
	verifier: string;
	redirectUri: string;
	authorizationUrl: URL;
}

/**
 * a minimal hand-written atproto OAuth client: jose for DPoP proofs and client assertions, plain
 * fetch, one nonce retry. just enough to drive the test server through a whole sign-in.
 */
export class MiniClient {
	/** the latest nonce per origin. */
	readonly nonces: Map<string, string> = new Map();
	dpopKey: TestKey;

	constructor(
		readonly server: TestOAuthServer,
		readonly metadata: Record<string, unknown> & { client_id: string; redirect_uris: string[] },
		dpopKey: TestKey,
		readonly assertionKey: TestKey | undefined,
		readonly kid: string,
	) {
		this.dpopKey = dpopKey;
	}

	get clientId(): string {
		return this.metadata.client_id;
	}

	/** a confidential client with an inline JWKS, registered with the server. */
	static async confidential(
		server: TestOAuthServer,
		overrides: Record<string, unknown> = {},
	): Promise<MiniClient> {
		const assertionKey = await makeKey();
		const origin = `https://client-${random(6)
			.toLowerCase()
			.replace(/[^a-z0-9]/g, 'x')}.example.com`;
		const metadata = {
			client_id: `${origin}/oauth-client-metadata.json`,
			client_name: 'mini client',
			application_type: 'web',
			redirect_uris: [`${origin}/callback`],
			scope: 'atproto transition:generic',
			grant_types: ['authorization_code', 'refresh_token'],
			response_types: ['code'],
			token_endpoint_auth_method: 'private_key_jwt',
			token_endpoint_auth_signing_alg: 'ES256',
			jwks: { keys: [{ ...assertionKey.publicJwk, kid: 'k1', alg: 'ES256', use: 'sig' }] },
			dpop_bound_access_tokens: true,
			...overrides,
		};
		server.registerClient(metadata);
		return new MiniClient(server, metadata, await makeKey(), assertionKey, 'k1');
	}

	/** a loopback public client (not registered: its metadata comes from its id). */
	static async loopback(server: TestOAuthServer, scope = 'atproto transition:generic'): Promise<MiniClient> {
		const redirectUri = 'http://127.0.0.1/callback';
		const query = new URLSearchParams({ redirect_uri: redirectUri, scope });
		const metadata = { client_id: `http://localhost?${query}`, redirect_uris: [redirectUri] };
		return new MiniClient(server, metadata, await makeKey(), undefined, '');
	}

	/** signs a DPoP proof. */
	proof(options: ProofOptions): Promise<string> {
		const key = options.key ?? this.dpopKey;
		const ath = options.ath ?? (options.accessToken === undefined ? undefined : sha256(options.accessToken));
		return new SignJWT({
			htm: options.htm,
			htu: options.htu,
			jti: options.jti ?? random(),
			...(options.nonce === undefined ? {} : { nonce: options.nonce }),
			...(ath === undefined ? {} : { ath }),
		})
			.setProtectedHeader({ alg: 'ES256', typ: options.typ ?? 'dpop+jwt', jwk: key.publicJwk })
			.setIssuedAt(options.iat ?? Math.floor(Date.now() / 1000))
			.sign(key.privateKey);
	}

	/** signs a client assertion. */
	assertion(options: AssertionOptions = {}): Promise<string> {
		const key = options.key ?? this.assertionKey!;
		const iat = options.iat ?? Math.floor(Date.now() / 1000);
		const kid = options.kid === undefined ? this.kid : options.kid;
		const jwt = new SignJWT({ jti: options.jti ?? random() })
			.setProtectedHeader(kid === null ? { alg: 'ES256' } : { alg: 'ES256', kid })
			.setIssuer(options.iss ?? this.clientId)
			.setSubject(options.sub ?? this.clientId)
			.setAudience(options.aud ?? this.server.issuer)
			.setIssuedAt(iat);
		if (options.exp !== null) jwt.setExpirationTime(options.exp ?? iat + 60);
		return jwt.sign(key.privateKey);
	}

	/** the client authentication parameters of an authorization server request. */
	async credentials(assertion?: AssertionOptions): Promise<Record<string, string>> {
		if (this.assertionKey === undefined) return { client_id: this.clientId };
		return {
			client_id: this.clientId,
			client_assertion_type: CLIENT_ASSERTION_TYPE,
			client_assertion: await this.assertion(assertion),
		};
	}

	/** remembers the nonce of a response. */
	learn(url: string, response: Response): void {
		const nonce = response.headers.get('dpop-nonce');
		if (nonce !== null) this.nonces.set(new URL(url).origin, nonce);
	}

	/**
	 * POSTs a form to an authorization server endpoint with client authentication and a DPoP
	 * proof, retrying once on `use_dpop_nonce` (with a new assertion and proof).
	 */
	async post(path: string, params: Record<string, string>, assertion?: AssertionOptions): Promise<Response> {
		const url = this.server.issuer + path;
		for (let attempt = 0; ; attempt++) {
			const body = new URLSearchParams({ ...(await this.credentials(assertion)), ...params });
			const response = await fetch(url, {
				method: 'POST',
				headers: {
					'content-type': 'application/x-www-form-urlencoded',
					dpop: await this.proof({ htm: 'POST', htu: url, nonce: this.nonces.get(this.server.issuer) }),
				},
				body,
			});
			this.learn(url, response);
			if (attempt === 0 && response.status === 400) {
				const error = (await response.clone().json()) as { error?: string };
				if (error.error === 'use_dpop_nonce') continue;
			}
			return response;
		}
	}

	/** calls the PDS with the access token, retrying once on `use_dpop_nonce`. */
	async resource(
		accessToken: string,
		nsid = 'com.atproto.server.getSession',
		init: { method?: string; body?: string } = {},
	): Promise<Response> {
		const url = `${this.server.pdsUrl}/xrpc/${nsid}`;
		const method = init.method ?? 'GET';
		for (let attempt = 0; ; attempt++) {
			const response = await fetch(url, {
				method,
				headers: {
					authorization: `DPoP ${accessToken}`,
					dpop: await this.proof({
						htm: method,
						htu: url,
						nonce: this.nonces.get(this.server.pdsUrl),
						accessToken,
					}),
					...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
				},
				...(init.body === undefined ? {} : { body: init.body }),
			});
			this.learn(url, response);
			if (attempt === 0 && response.status === 401) {
				if (/error="use_dpop_nonce"/.test(response.headers.get('www-authenticate') ?? '')) continue;
			}
			return response;
		}
	}

	/** PAR, then the authorization URL. */
	async pushAuthorization(params: Record<string, string> = {}): Promise<Pending> {
		const state = random();
		const verifier = random(32);
		const redirectUri = this.metadata.redirect_uris[0]!;
		const response = await this.post('/oauth/par', {
			response_type: 'code',
			code_challenge: sha256(verifier),
			code_challenge_method: 'S256',
			state,
			redirect_uri: redirectUri,
			scope: 'atproto transition:generic',
			...params,
		});
		const body = (await response.json()) as { request_uri?: string; error_description?: string };
		if (response.status !== 201) {
			throw new Error(`PAR answered ${response.status}: ${body.error_description}`);
		}
		const authorizationUrl = new URL(`${this.server.issuer}/oauth/authorize`);
		authorizationUrl.searchParams.set('client_id', this.clientId);
		authorizationUrl.searchParams.set('request_uri', body.request_uri!);
		return { state, verifier, redirectUri: params.redirect_uri ?? redirectUri, authorizationUrl };
	}

	/** exchanges a code. */
	exchange(pending: Pending, code: string): Promise<Response> {
		return this.post('/oauth/token', {
			grant_type: 'authorization_code',
			code,
			code_verifier: pending.verifier,
			redirect_uri: pending.redirectUri,
		});
	}

	/** refreshes. */
	refresh(refreshToken: string): Promise<Response> {
		return this.post('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken });
	}

	/** PAR, authorization as `did`, code exchange: the tokens. */
	async signIn(did: string): Promise<Tokens> {
		const pending = await this.pushAuthorization();
		const redirect = await this.server.authorize(pending.authorizationUrl, { did });
		const response = await this.exchange(pending, redirect.get('code')!);
		const body = (await response.json()) as Tokens & { error_description?: string };
		if (response.status !== 200) {
			throw new Error(`token answered ${response.status}: ${body.error_description}`);
		}
		return body;
	}
}
