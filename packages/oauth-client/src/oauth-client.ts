import type { ActorResolver } from '@atcute/identity-resolver';
import type { ActorIdentifier, Did } from '@atcute/lexicons';
import { type AuthorizationServerMetadata, OAuthDiscovery } from '@atcute/oauth-discovery';
import {
	type DpopNonceCache,
	exportDpopKey,
	type FetchFunction,
	generateDpopKey,
	MemoryDpopNonceCache,
} from '@atcute/oauth-dpop';
import {
	type CreateSigner,
	type Jwks,
	Keyset,
	type PrivateKey,
	randomId,
	sha256Base64url,
} from '@atcute/oauth-keys';

import { AuthorizationServerAgent } from './authorization-server-agent.ts';
import {
	buildClientMetadata,
	buildLoopbackClientMetadata,
	type ClientMetadataInput,
	isLoopbackClientId,
	type OAuthClientMetadata,
} from './client-metadata.ts';
import { AS_REQUEST_TIMEOUT_MS, REVOCATION_TIMEOUT_MS, STATE_TTL_MS } from './constants.ts';
import {
	AuthMethodUnsatisfiableError,
	IdentityMismatchError,
	IdentityResolutionError,
	OAuthCallbackError,
	OAuthResponseError,
	SessionNotFoundError,
	TokenRefreshError,
} from './errors.ts';
import { DpopKeyCache } from './internal/dpop-key-cache.ts';
import { fetchAcceptsNoCache } from './internal/fetch-no-cache.ts';
import { createMemoryLock, type LockFunction } from './lock.ts';
import { OAuthSession, type SessionHost } from './oauth-session.ts';
import type {
	ClientAuthMethod,
	SessionStore,
	StateStore,
	StoredSession,
	StoredState,
} from './stored-types.ts';
import { isStale, toTokenSet } from './token-set.ts';

/** the stores an `OAuthClient` keeps its data in. */
export interface OAuthClientStores {
	/** sessions, keyed by DID: durable across restarts, shared by every process of the app. */
	sessions: SessionStore;
	/** authorization attempts, keyed by OAuth state: about 10 minutes each. */
	states: StateStore;
	/** the servers' DPoP nonces, keyed by origin; default in memory. */
	dpopNonces?: DpopNonceCache | undefined;
}

/** options for `new OAuthClient()`. */
export interface OAuthClientOptions {
	/** the client metadata; see `ClientMetadataInput`. checked here, with errors naming the field. */
	metadata: ClientMetadataInput;
	/**
	 * the client's private keys (at least one ES256). omit for a loopback development client
	 * (`client_id` absent or `http://localhost`).
	 */
	keyset?: Keyset | readonly PrivateKey[] | undefined;
	stores: OAuthClientStores;
	/**
	 * the lock that serialises token refreshes per session. default: in memory, which is enough
	 * for one process; give a distributed lock when several processes share the session store.
	 */
	requestLock?: LockFunction | undefined;
	/** resolves handles and DIDs to an account's DID, handle and PDS. */
	actorResolver: ActorResolver;
	/** the fetch for every request to authorization servers and PDSes; default `globalThis.fetch`. */
	fetch?: FetchFunction | undefined;
	/**
	 * > [!WARNING]
	 * > development only: allows plain-http PDSes and authorization servers (a local PDS).
	 */
	allowHttp?: boolean | undefined;
	/** how keys sign (DPoP proofs and client assertions); default WebCrypto. */
	createSigner?: CreateSigner | undefined;
	/** the clock, in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
	/**
	 * the time limit for each request to an authorization server or for a discovery document, in
	 * milliseconds; default 10 000. a request over it fails with a transient error.
	 */
	timeout?: number | undefined;
}

/** where the sign-in starts. */
export type AuthorizeTarget =
	| { type: 'account'; identifier: ActorIdentifier | string }
	| { type: 'pds'; serviceUrl: string };

/** options for `authorize()`. */
export interface AuthorizeOptions {
	/** the account (handle or DID, as the user typed it), or a PDS or entryway URL. */
	target: AuthorizeTarget;
	/** the app's own state, kept server-side and handed back by `callback()`. JSON-safe. */
	state?: unknown;
	/** the scopes to ask for, a subset of the metadata's; default all of them. */
	scope?: string | readonly string[] | undefined;
	/** one of the metadata's `redirect_uris`; default the first. */
	redirectUri?: string | undefined;
	/** the OAuth `prompt`: `login`, `none`, `consent`, `select_account` or `create`. */
	prompt?: string | undefined;
	/** aborts resolution and the PAR request. */
	signal?: AbortSignal | undefined;
}

/** what `authorize()` returns. */
export interface AuthorizeResult {
	/** where to send the user's browser. */
	url: URL;
}

/** what `callback()` returns. */
export interface CallbackResult {
	/** the new session. */
	session: OAuthSession;
	/** the app state given to `authorize()`. */
	state: unknown;
}

/** options for `restore()`. */
export interface RestoreOptions {
	/** `'auto'` (default): refresh when the access token is about to expire; `true`: now; `false`: never. */
	refresh?: boolean | 'auto' | undefined;
}

const PROMPTS = new Set(['none', 'login', 'consent', 'select_account', 'create']);

/**
 * an atproto OAuth client: PAR, PKCE, DPoP and `private_key_jwt` (or a loopback public client
 * for development). signs users in (`authorize`, `callback`), restores their sessions and signs
 * them out.
 * @see https://atproto.com/specs/oauth
 */
export class OAuthClient {
	/** the client metadata document to serve at `client_id`. */
	readonly metadata: OAuthClientMetadata;
	/** the public keys to serve at `jwks_uri`; undefined for a loopback client. */
	readonly jwks: Jwks | undefined;
	/** the client's keys; undefined for a loopback client. */
	readonly keyset: Keyset | undefined;

	readonly #sessions: SessionStore;
	readonly #states: StateStore;
	readonly #lock: LockFunction;
	readonly #actorResolver: ActorResolver;
	readonly #discovery: OAuthDiscovery;
	readonly #keys: DpopKeyCache;
	readonly #createSigner: CreateSigner | undefined;
	readonly #host: SessionHost;
	readonly #refreshing = new Map<Did, Promise<StoredSession>>();
	readonly #takingStates = new Set<string>();
	readonly #timeout: number;

	constructor(options: OAuthClientOptions) {
		const {
			metadata,
			keyset,
			stores,
			requestLock,
			actorResolver,
			fetch = globalThis.fetch,
			now = Date.now,
			timeout = AS_REQUEST_TIMEOUT_MS,
		} = options;
		if (!(Number.isFinite(timeout) && timeout > 0)) {
			throw new TypeError(`timeout must be a positive number of milliseconds, got ${timeout}`);
		}

		if (keyset === undefined) {
			if (!isLoopbackClientId(metadata?.client_id)) {
				throw new TypeError(
					'a keyset is required for a confidential client; omit client_id (or use http://localhost) for a loopback development client',
				);
			}
			this.keyset = undefined;
			this.metadata = buildLoopbackClientMetadata(metadata);
		} else {
			this.keyset = Keyset.from(keyset);
			this.metadata = buildClientMetadata(metadata, this.keyset);
		}
		this.jwks = this.keyset?.publicJwks;

		for (const name of ['sessions', 'states'] as const) {
			const store = stores?.[name];
			if (
				typeof store?.get !== 'function' ||
				typeof store.set !== 'function' ||
				typeof store.delete !== 'function'
			) {
				throw new TypeError(`stores.${name} must be a store with get, set and delete methods`);
			}
		}
		if (typeof actorResolver?.resolve !== 'function') {
			throw new TypeError('actorResolver must be an ActorResolver (an object with a resolve method)');
		}
		if (requestLock !== undefined && typeof requestLock !== 'function') {
			throw new TypeError('requestLock must be a function (name, fn) => Promise');
		}

		this.#sessions = stores.sessions;
		this.#states = stores.states;
		this.#lock = requestLock ?? createMemoryLock();
		this.#actorResolver = actorResolver;
		this.#createSigner = options.createSigner;
		this.#discovery = new OAuthDiscovery({ fetch, allowHttp: options.allowHttp ?? false, timeout });
		this.#timeout = timeout;
		this.#keys = new DpopKeyCache(options.createSigner);
		this.#host = {
			nonces: stores.dpopNonces ?? new MemoryDpopNonceCache(),
			fetch,
			now,
			refresh: (did, stale) => this.#refresh(did, stale),
			revoke: (did) => this.revoke(did),
		};
	}

	/**
	 * starts a sign-in: resolves the account or server, pushes the authorization request (PAR,
	 * PKCE S256, DPoP, client assertion), and returns the URL to send the user to. the state,
	 * verifier and DPoP key stay server-side, in the state store.
	 */
	async authorize(options: AuthorizeOptions): Promise<AuthorizeResult> {
		const { target, signal } = options;
		const redirectUri = options.redirectUri ?? this.metadata.redirect_uris[0]!;
		if (!this.metadata.redirect_uris.includes(redirectUri)) {
			throw new TypeError(
				`redirectUri ${JSON.stringify(redirectUri)} is not one of the metadata's redirect_uris`,
			);
		}
		if (options.prompt !== undefined && !PROMPTS.has(options.prompt)) {
			throw new TypeError(
				`prompt must be one of ${[...PROMPTS].join(', ')}, got ${JSON.stringify(options.prompt)}`,
			);
		}
		const scope = this.#requestedScope(options.scope);

		let server: AuthorizationServerMetadata;
		let expectedDid: Did | undefined;
		let loginHint: string | undefined;
		if (target?.type === 'account') {
			if (typeof target.identifier !== 'string' || target.identifier.trim() === '') {
				throw new TypeError('target.identifier must be a handle or DID');
			}
			loginHint = target.identifier.trim();
			const actor = await this.#resolveActor(loginHint, { signal });
			expectedDid = actor.did;
			server = (await this.#discovery.resolveFromPds(actor.pds, { signal })).authorizationServer;
		} else if (target?.type === 'pds') {
			server = (await this.#discovery.resolveFromService(target.serviceUrl, { signal })).authorizationServer;
		} else {
			throw new TypeError('target must be { type: "account", identifier } or { type: "pds", serviceUrl }');
		}

		const { authMethod, clientKey } = this.#negotiateClientAuth(server);
		const dpopKey = await generateDpopKey(
			server.dpop_signing_alg_values_supported,
			this.#createSigner ? { createSigner: this.#createSigner } : undefined,
		);
		// 32 random bytes: a 43-character verifier, the RFC 7636 minimum
		const verifier = randomId(32);
		const stateId = randomId(16);
		const now = this.#host.now();

		const state: StoredState = {
			issuer: server.issuer,
			dpopKey: await exportDpopKey(dpopKey),
			authMethod,
			verifier,
			redirectUri,
			expectedDid,
			appState: options.state,
			expiresAt: now + STATE_TTL_MS,
		};
		// everything the callback needs stays here; only the random state id travels
		await this.#states.set(stateId, state, { expiresAt: state.expiresAt });

		const agent = new AuthorizationServerAgent({
			server,
			clientId: this.metadata.client_id,
			clientKey,
			dpopKey,
			nonces: this.#host.nonces,
			fetch: this.#host.fetch,
			now: this.#host.now,
			timeout: this.#timeout,
		});

		const params: Record<string, string> = {
			response_type: 'code',
			redirect_uri: redirectUri,
			scope,
			state: stateId,
			code_challenge: await sha256Base64url(verifier),
			code_challenge_method: 'S256',
		};
		if (loginHint !== undefined) params.login_hint = loginHint;
		if (options.prompt !== undefined) params.prompt = options.prompt;

		let requestUri: string;
		try {
			({ requestUri } = await agent.pushAuthorizationRequest(params, signal));
		} catch (err) {
			await Promise.resolve(this.#states.delete(stateId)).catch(() => {});
			throw err;
		}

		const url = new URL(server.authorization_endpoint);
		url.searchParams.set('client_id', this.metadata.client_id);
		url.searchParams.set('request_uri', requestUri);
		return { url };
	}

	/**
	 * completes a sign-in from the redirect's query parameters. in order: the state (single use,
	 * 10 minutes), the server's `error`, `iss` (RFC 9207), then the code is exchanged once; the
	 * token's `sub` must be the expected account and must resolve back to this issuer.
	 * @throws {OAuthCallbackError} for a refused or invalid callback (`error` says which)
	 * @throws {IdentityMismatchError} when the account is not the expected one (tokens revoked)
	 */
	async callback(params: URLSearchParams): Promise<CallbackResult> {
		const stateId = params.get('state');
		if (!stateId) {
			throw new OAuthCallbackError('missing_state', 'the callback has no state parameter');
		}

		// single use, enforced here whatever the store does: a replayed callback finds nothing
		const stored = await this.#takeState(stateId);
		if (stored === undefined) {
			throw new OAuthCallbackError('invalid_state', 'unknown or already used state');
		}
		if (!(stored.expiresAt > this.#host.now())) {
			throw new OAuthCallbackError(
				'expired_state',
				'the authorization took longer than 10 minutes',
				stored.appState,
			);
		}

		const error = params.get('error');
		if (error !== null) {
			throw new OAuthCallbackError(error, params.get('error_description') ?? undefined, stored.appState);
		}

		// mix-up defence (RFC 9207): the response must come from the server we sent the user to
		const iss = params.get('iss');
		if (iss === null) {
			throw new OAuthCallbackError('missing_iss', 'the callback has no iss parameter', stored.appState);
		}
		if (iss !== stored.issuer) {
			throw new OAuthCallbackError(
				'issuer_mismatch',
				`the callback comes from ${iss}, not from ${stored.issuer}`,
				stored.appState,
			);
		}

		const code = params.get('code');
		if (!code) {
			throw new OAuthCallbackError('missing_code', 'the callback has no code parameter', stored.appState);
		}

		const server = await this.#discovery.resolveAuthorizationServer(stored.issuer);
		const agent = new AuthorizationServerAgent({
			server,
			clientId: this.metadata.client_id,
			clientKey: this.#clientKeyFor(stored.authMethod, stored.expectedDid),
			dpopKey: await this.#keys.get(stored.dpopKey),
			nonces: this.#host.nonces,
			fetch: this.#host.fetch,
			now: this.#host.now,
			timeout: this.#timeout,
		});

		const tokens = await agent.exchangeCode(code, stored.verifier, stored.redirectUri);
		const did = tokens.sub;
		let session: StoredSession;
		try {
			if (stored.expectedDid !== undefined && did !== stored.expectedDid) {
				throw new IdentityMismatchError('sub', stored.expectedDid, did);
			}

			// the account's own identity must lead back to this issuer: otherwise any server could
			// issue tokens claiming any DID
			const actor = await this.#resolveActor(did, { noCache: fetchAcceptsNoCache() });
			const resolved = await this.#discovery.resolveFromPds(actor.pds, { noCache: true });
			if (resolved.authorizationServer.issuer !== stored.issuer) {
				throw new IdentityMismatchError('issuer', stored.issuer, resolved.authorizationServer.issuer);
			}

			session = {
				dpopKey: stored.dpopKey,
				authMethod: stored.authMethod,
				tokenSet: toTokenSet(tokens, stored.issuer, resolved.pds, this.#host.now()),
			};
			// under the lock: a refresh of an older session of this account must not overwrite it
			await this.#lock(lockName(did), async () => {
				await this.#sessions.set(did, session);
			});
		} catch (err) {
			// nothing is kept from a sign-in that failed: revoke what was issued
			await agent
				.revoke(tokens.refresh_token ?? tokens.access_token, AbortSignal.timeout(REVOCATION_TIMEOUT_MS))
				.catch(() => {});
			throw err;
		}

		return {
			session: new OAuthSession(this.#host, did, session, await this.#keys.get(session.dpopKey)),
			state: stored.appState,
		};
	}

	/**
	 * the session of an account, refreshed first when its access token is about to expire.
	 * @throws {SessionNotFoundError} when there is none
	 * @throws {TokenRefreshError} when the refresh was refused (the session is gone)
	 * @throws {OAuthTransientError} when the server could not be reached (the session is kept)
	 */
	async restore(did: Did, options: RestoreOptions = {}): Promise<OAuthSession> {
		const { refresh = 'auto' } = options;
		let session = await this.#sessions.get(did);
		if (session === undefined) {
			throw new SessionNotFoundError(did);
		}

		if (refresh === true) {
			session = await this.#refresh(did, undefined);
		} else if (refresh === 'auto' && isStale(session.tokenSet, this.#host.now())) {
			session = await this.#refresh(did, session.tokenSet.access_token);
		} else if (session.authMethod.method === 'private_key_jwt' && !this.keyset?.has(session.authMethod.kid)) {
			// the session can never authenticate again: end it now rather than at its next refresh
			await this.#lock(lockName(did), async () => this.#sessions.delete(did));
			throw new AuthMethodUnsatisfiableError(did, session.authMethod.kid);
		}

		return new OAuthSession(this.#host, did, session, await this.#keys.get(session.dpopKey));
	}

	/**
	 * signs an account out: revokes its refresh token (ending the grant) and access token at the
	 * server, best effort within 5 seconds, and always deletes the stored session. idempotent.
	 */
	async revoke(did: Did): Promise<void> {
		await this.#lock(lockName(did), async () => {
			const session = await this.#sessions.get(did);
			if (session === undefined) return;
			try {
				const agent = await this.#agentFor(did, session);
				const signal = AbortSignal.timeout(REVOCATION_TIMEOUT_MS);
				const { refresh_token, access_token } = session.tokenSet;
				// the refresh token first: revoking only the access token would leave the grant alive
				if (refresh_token !== undefined) await agent.revoke(refresh_token, signal).catch(() => {});
				await agent.revoke(access_token, signal).catch(() => {});
			} catch {
				// best effort: the local session goes whatever the server said
			} finally {
				await this.#sessions.delete(did);
			}
		});
	}

	/** the scope string to request: given tokens must all be in the metadata's scope. */
	#requestedScope(scope: string | readonly string[] | undefined): string {
		if (scope === undefined) return this.metadata.scope;
		const allowed = new Set(this.metadata.scope.split(' '));
		const tokens = typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [...scope];
		const out = new Set(['atproto']);
		for (const token of tokens) {
			// the server checks each requested scope literally against the metadata's
			if (!allowed.has(token)) {
				throw new TypeError(`scope ${JSON.stringify(token)} is not in the client metadata's scope`);
			}
			out.add(token);
		}
		return [...out].join(' ');
	}

	#negotiateClientAuth(server: AuthorizationServerMetadata): {
		authMethod: ClientAuthMethod;
		clientKey: PrivateKey | undefined;
	} {
		if (this.keyset === undefined) {
			return { authMethod: { method: 'none' }, clientKey: undefined };
		}
		// the metadata declares ES256 as its one assertion algorithm
		const supported = server.token_endpoint_auth_signing_alg_values_supported?.filter(
			(alg) => alg === 'ES256',
		) ?? ['ES256'];
		const clientKey = this.keyset.negotiate(supported);
		return { authMethod: { method: 'private_key_jwt', kid: clientKey.kid }, clientKey };
	}

	#clientKeyFor(authMethod: ClientAuthMethod, did: Did | undefined): PrivateKey | undefined {
		if (authMethod.method === 'none') return undefined;
		const key = this.keyset?.get(authMethod.kid);
		if (key === undefined) {
			throw new AuthMethodUnsatisfiableError(did, authMethod.kid);
		}
		return key;
	}

	async #agentFor(did: Did, session: StoredSession): Promise<AuthorizationServerAgent> {
		return new AuthorizationServerAgent({
			server: await this.#discovery.resolveAuthorizationServer(session.tokenSet.iss),
			clientId: this.metadata.client_id,
			clientKey: this.#clientKeyFor(session.authMethod, did),
			dpopKey: await this.#keys.get(session.dpopKey),
			nonces: this.#host.nonces,
			fetch: this.#host.fetch,
			now: this.#host.now,
			timeout: this.#timeout,
		});
	}

	async #resolveActor(identifier: string, options: { signal?: AbortSignal | undefined; noCache?: boolean }) {
		try {
			const { signal, noCache = false } = options;
			return await this.#actorResolver.resolve(
				identifier as ActorIdentifier,
				signal ? { signal, noCache } : { noCache },
			);
		} catch (err) {
			if (options.signal?.aborted) throw options.signal.reason;
			throw new IdentityResolutionError(identifier, { cause: err });
		}
	}

	async #takeState(stateId: string): Promise<StoredState | undefined> {
		if (typeof this.#states.take === 'function') {
			return (await this.#states.take(stateId)) ?? undefined;
		}
		// without an atomic take, a claim in this process keeps two concurrent callbacks apart
		if (this.#takingStates.has(stateId)) return undefined;
		this.#takingStates.add(stateId);
		try {
			const state = await this.#states.get(stateId);
			if (state !== undefined) await this.#states.delete(stateId);
			return state;
		} finally {
			this.#takingStates.delete(stateId);
		}
	}

	/** one refresh per account at a time in this process; the lock covers the others. */
	#refresh(did: Did, staleAccessToken: string | undefined): Promise<StoredSession> {
		let pending = this.#refreshing.get(did);
		if (pending === undefined) {
			pending = this.#lock(lockName(did), () => this.#refreshLocked(did, staleAccessToken)).finally(() => {
				this.#refreshing.delete(did);
			});
			this.#refreshing.set(did, pending);
		}
		return pending;
	}

	async #refreshLocked(did: Did, staleAccessToken: string | undefined): Promise<StoredSession> {
		// re-read inside the lock: another holder may have refreshed (or ended) it meanwhile
		const session = await this.#sessions.get(did);
		if (session === undefined) {
			throw new SessionNotFoundError(did);
		}
		const { tokenSet } = session;
		if (
			staleAccessToken !== undefined &&
			tokenSet.access_token !== staleAccessToken &&
			!isStale(tokenSet, this.#host.now())
		) {
			return session;
		}

		const end = async (error: Error): Promise<never> => {
			await this.#sessions.delete(did);
			throw error;
		};

		if (tokenSet.refresh_token === undefined) {
			return end(
				new TokenRefreshError(did, 'no_refresh_token', `the session of ${did} has no refresh token`),
			);
		}

		let agent: AuthorizationServerAgent;
		try {
			agent = await this.#agentFor(did, session);
		} catch (err) {
			// a session whose key was rotated out can never authenticate again
			if (err instanceof AuthMethodUnsatisfiableError) return end(err);
			throw err;
		}

		let tokens: Awaited<ReturnType<AuthorizationServerAgent['refresh']>>;
		try {
			// from here on the refresh token is spent: this request is not abortable
			tokens = await agent.refresh(tokenSet.refresh_token);
		} catch (err) {
			// only the server's refusal is definitive; network errors, 5xx and 429 keep the session
			if (err instanceof OAuthResponseError && err.error === 'invalid_grant') {
				return end(
					new TokenRefreshError(did, 'invalid_grant', `the refresh of ${did} was refused: ${err.message}`, {
						cause: err,
					}),
				);
			}
			throw err;
		}

		// the server's own sub, not our copy of it
		if (tokens.sub !== did) {
			await agent.revoke(tokens.refresh_token ?? tokens.access_token).catch(() => {});
			return end(
				new TokenRefreshError(did, 'sub_mismatch', `the refreshed tokens are for ${tokens.sub}, not ${did}`),
			);
		}

		const next: StoredSession = {
			...session,
			tokenSet: toTokenSet(tokens, tokenSet.iss, tokenSet.aud, this.#host.now(), tokenSet.refresh_token),
		};
		try {
			await this.#sessions.set(did, next);
		} catch (err) {
			// the old refresh token is spent and the new one could not be kept: the session is lost
			// either way, so revoke what we hold rather than leave it live
			await agent.revoke(next.tokenSet.refresh_token ?? next.tokenSet.access_token).catch(() => {});
			await Promise.resolve(this.#sessions.delete(did)).catch(() => {});
			throw err;
		}
		return next;
	}
}

const lockName = (did: Did): string => `oauth-session:${did}`;
