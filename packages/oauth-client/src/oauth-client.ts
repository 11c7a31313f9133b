import type { ActorResolver } from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { type AuthorizationServerMetadata, OAuthDiscovery } from '@atcute/oauth-discovery';
import { type DpopKey, exportDpopKey, generateDpopKey, MemoryDpopNonceCache } from '@atcute/oauth-dpop';
import {
	type CreateSigner,
	type InvalidKeyError,
	type Jwks,
	type Keyset,
	type PrivateKey,
	randomId,
	sha256Base64url,
} from '@atcute/oauth-keys';
import { atprotoDidProblem } from '@atcute-oauth/internal/atproto-names';
import { kindOf } from '@atcute-oauth/internal/kind-of';
import { settleBefore } from '@atcute-oauth/internal/settle-before';
import {
	buildClientMetadata,
	buildLoopbackClientMetadata,
	isLoopbackClientId,
	type OAuthClientMetadata,
} from './client-metadata.ts';
import { AS_REQUEST_TIMEOUT_MS, REVOCATION_TIMEOUT_MS, STATE_TTL_MS } from './constants.ts';
import {
	AuthMethodUnsatisfiableError,
	IdentityMismatchError,
	InvalidResponseError,
	OAuthCallbackError,
	OAuthResponseError,
	SessionNotFoundError,
	UnreadableSessionError,
} from './errors.ts';
import { parseAccountIdentifier } from './internal/account-identifier.ts';
import { type CreateAgent, createAgentFactory } from './internal/agent-factory.ts';
import { type AuthorizationServerAgent, wasNotSent } from './internal/authorization-server-agent.ts';
import { checkCallback, readCallbackState, toCallbackParams } from './internal/callback-params.ts';
import { checkClientOptions } from './internal/check-client-options.ts';
import {
	AUTHORIZE_OPTIONS,
	checkAppState,
	checkCallbackOptions,
	checkDidArgument,
	checkOptionNames,
	checkRestoreOptions,
	checkSignal,
} from './internal/check-method-arguments.ts';
import { checkedLock } from './internal/checked-lock.ts';
import {
	boundAuthMethod,
	type ClientKeyThumbprints,
	fallbackClientKeys,
	negotiateClientAuth,
	pinnedClientKey,
	thumbprintKeyset,
} from './internal/client-auth.ts';
import { defaultLockFor } from './internal/default-lock.ts';
import { DpopKeyCache } from './internal/dpop-key-cache.ts';
import { checkHold, underLockRetryingOnce } from './internal/hold-lost.ts';
import { InFlightWork } from './internal/in-flight-work.ts';
import { MonotonicLifetimes } from './internal/monotonic-lifetimes.ts';
import { PdsNonceSightings } from './internal/pds-nonce-sightings.ts';
import { createPkce } from './internal/pkce.ts';
import { promisedTracer } from './internal/promised-tracer.ts';
import {
	otherAccountOf,
	otherClientOf,
	readStoredSession,
	type StoredSessionRules,
} from './internal/read-stored-session.ts';
import { readStoredState } from './internal/read-stored-state.ts';
import { RefreshDeferrals } from './internal/refresh-deferrals.ts';
import { requestedScope } from './internal/requested-scope.ts';
import { resolveActor, resolveIdentityAfresh } from './internal/resolve-identity.ts';
import { serverClocksFor } from './internal/server-clocks-for.ts';
import { sessionEndCause } from './internal/session-end-cause.ts';
import { SessionEventEmitter } from './internal/session-event-emitter.ts';
import { SessionRefresher, sessionLockName } from './internal/session-refresher.ts';
import { createStateTake, returnState, type TakeState } from './internal/state-take.ts';
import { accessTokenOf, readBeforeReplacing, storeIssuedSession } from './internal/store-issued-session.ts';
import { toKeyset } from './internal/to-keyset.ts';
import { tracedText } from './internal/traced-text.ts';
import { isTransient } from './internal/transient-failure.ts';
import { waitForLock } from './internal/wait-for-lock.ts';
import type { LockFunction } from './lock.ts';
import type {
	AuthorizeOptions,
	AuthorizeResult,
	CallbackOptions,
	CallbackResult,
	OAuthClientOptions,
	RestoreOptions,
} from './oauth-client-options.ts';
import { OAuthSession, type SessionHost } from './oauth-session.ts';
import type { SessionDeletedCause, SessionEventListener } from './session-events.ts';
import type { SessionStore, StateStore, StoredSession, StoredState, TokenSet } from './stored-types.ts';
import type { TokenResponse } from './token-response.ts';
import { isStale, toTokenSet } from './token-set.ts';
import type {
	AuthorizeTraceContext,
	CallbackTraceContext,
	OAuthTracer,
	RevokeTraceContext,
} from './tracer.ts';

export type {
	AuthorizeOptions,
	AuthorizeResult,
	AuthorizeTarget,
	CallbackOptions,
	CallbackResult,
	OAuthClientOptions,
	OAuthClientStores,
	RestoreOptions,
} from './oauth-client-options.ts';

const PROMPTS = new Set(['none', 'login', 'consent', 'select_account', 'create']);

/** how much of what the user typed a trace carries: longer than any handle or DID. */
const MAX_TRACED_IDENTIFIER = 256;

/** how much of a service URL a trace carries: longer than any PDS's origin and path. */
const MAX_TRACED_URL = 512;

/**
 * whether `err` is an `InvalidKeyError`, of any installed copy of `@atcute/oauth-keys`: by its
 * stable `code`, not `instanceof`. the DPoP package throws its own copy's, which need not be the
 * one this package imports (two ranges that do not meet give each its own).
 */
const isInvalidKeyError = (err: unknown): err is InvalidKeyError =>
	err instanceof Error && (err as { code?: unknown }).code === 'ERR_INVALID_KEY';

/** whether two sessions hold the same tokens (a refresh token is spent on use: any change shows). */
const sameTokens = (a: StoredSession, b: StoredSession | undefined): boolean =>
	b !== undefined &&
	a.tokenSet.access_token === b.tokenSet.access_token &&
	a.tokenSet.refresh_token === b.tokenSet.refresh_token;

/**
 * the session a sign-in is about to replace (`stored`, as read), to revoke once it is; none when
 * there is none, or when it cannot be read (a sign-in is not failed for an old session)
 */
const replacedSession = (did: Did, stored: unknown, rules: StoredSessionRules): StoredSession | undefined => {
	if (stored == null) return undefined;
	try {
		return readStoredSession(did, stored as StoredSession, rules);
	} catch {
		return undefined;
	}
};

/** throws when the hold on `name` is lost by now (nothing was changed); call right before a write. */
const checkWriteHold = (name: string, lost: AbortSignal | undefined): void =>
	checkHold(
		name,
		lost,
		() => `the lock "${name}" was lost before the session was written or deleted: nothing was changed`,
	);

/** whether two sessions hold a token in common (either one, either kind). */
const sharesToken = (a: StoredSession, b: StoredSession): boolean => {
	const held = new Set([a.tokenSet.access_token, a.tokenSet.refresh_token]);
	return (
		held.has(b.tokenSet.access_token) ||
		(b.tokenSet.refresh_token !== undefined && held.has(b.tokenSet.refresh_token))
	);
};

/**
 * a service URL (a string, or a `URL` as `authorize` takes too) as a trace may carry it: its
 * origin and path, without credentials, query or fragment (the library refuses a URL with
 * credentials, yet a subscriber would see them first), cut to `MAX_TRACED_URL`; undefined when
 * it does not parse.
 */
const tracedUrl = (value: unknown): string | undefined => {
	const text = value instanceof URL ? value.href : value;
	if (typeof text !== 'string') return undefined;
	try {
		const { origin, pathname } = new URL(text);
		return origin === 'null' ? undefined : tracedText(origin + pathname, MAX_TRACED_URL);
	} catch {
		return undefined;
	}
};

/**
 * an atproto OAuth client: PAR, PKCE, DPoP and `private_key_jwt` (or a loopback public client
 * for development). signs users in (`authorize`, `callback`), restores their sessions and signs
 * them out. each rule lives in its own module; this class wires them together.
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
	readonly #timeout: number;
	/** plain http and localhost allowed: local development only. */
	readonly #allowHttp: boolean;
	readonly #actorResolver: ActorResolver;
	readonly #discovery: OAuthDiscovery;
	readonly #keys: DpopKeyCache;
	readonly #createSigner: CreateSigner | undefined;
	readonly #host: SessionHost;
	readonly #createAgent: CreateAgent;
	readonly #takeState: TakeState;
	readonly #refresher: SessionRefresher;
	/** when each token this process obtained expires on a clock that never steps (default `now` only). */
	readonly #lifetimes: MonotonicLifetimes | undefined;
	readonly #events = new SessionEventEmitter();
	readonly #tracer: OAuthTracer | undefined;
	/** the keyset's thumbprints, once computed (see `#clientKeyThumbprints`). */
	#thumbprints: Promise<ClientKeyThumbprints> | undefined;
	/** the work `close()` waits for, and refuses once called. */
	readonly #work = new InFlightWork();
	/** what this client asks of a stored session beyond its shape. */
	readonly #rules: StoredSessionRules;

	/** @param options the client metadata, keys, stores and resolver; see `OAuthClientOptions` */
	constructor(options: OAuthClientOptions) {
		// first: the options are read below, and nothing (or null) would fail on a property read
		checkClientOptions(options);
		const {
			metadata,
			keyset,
			stores,
			requestLock,
			actorResolver,
			fetch = globalThis.fetch,
			now = Date.now,
			timeout = AS_REQUEST_TIMEOUT_MS,
			dangerouslySkipDpopNonceCheck = false,
		} = options;
		if (keyset === undefined) {
			if (!isLoopbackClientId(metadata?.client_id)) {
				throw new TypeError(
					'a keyset is required for a confidential client; omit client_id (or use http://localhost) for a loopback development client',
				);
			}
			this.keyset = undefined;
			this.metadata = buildLoopbackClientMetadata(metadata);
		} else {
			this.keyset = toKeyset(keyset);
			this.metadata = buildClientMetadata(metadata, this.keyset);
		}
		this.jwks = this.keyset?.publicJwks;
		// every context names this client, and what a tracer's trace() hands back is made a promise,
		// for every operation (see promisedTracer)
		const tracer =
			options.tracer === undefined ? undefined : promisedTracer(options.tracer, this.metadata.client_id);

		this.#sessions = stores.sessions;
		this.#states = stores.states;
		this.#takeState = createStateTake(stores.states);
		this.#timeout = timeout;
		this.#lock =
			requestLock === undefined ? defaultLockFor(stores.sessions, timeout) : checkedLock(requestLock);
		this.#actorResolver = actorResolver;
		this.#createSigner = options.createSigner;
		this.#tracer = tracer;
		this.#allowHttp = options.allowHttp ?? false;
		this.#rules = { allowHttp: this.#allowHttp, clientId: this.metadata.client_id };
		// the client's clock: cached metadata goes stale by it, as states and tokens do
		this.#discovery = new OAuthDiscovery({ fetch, allowHttp: this.#allowHttp, timeout, now });
		this.#keys = new DpopKeyCache(options.createSigner);
		const nonces = stores.dpopNonces ?? new MemoryDpopNonceCache();
		// shared by the clients on this clock: a server that refused ours is stamped on its own for
		// every session
		const clocks = serverClocksFor(now);
		this.#createAgent = createAgentFactory({
			clientId: this.metadata.client_id,
			nonces,
			fetch,
			now,
			clocks,
			timeout,
			requireDpopNonce: !dangerouslySkipDpopNonceCheck,
		});
		// the wall clock's expiry of a token this process obtained is checked against a clock that
		// never steps, where a failed refresh would otherwise fail calls: with the default `now` only
		const lifetimes = options.now === undefined ? new MonotonicLifetimes() : undefined;
		this.#lifetimes = lifetimes;
		this.#refresher = new SessionRefresher({
			sessions: this.#sessions,
			rules: this.#rules,
			// every refresh (and refused-token mark) runs under this lock: counted for close()
			lock: (name, fn) => this.#work.run('refresh', () => this.#lock(name, fn)),
			now,
			lifetimes,
			agentFor: (did, session) => this.#agentFor(did, session),
			checkClientKey: async (did, session) => {
				await this.#boundClientKey(did, session.authMethod);
			},
			resolveIdentity: (did, issuer) =>
				resolveIdentityAfresh(this.#actorResolver, this.#discovery, did, { timeout, issuer }),
			end: async (did, cause, ended) => {
				await this.#endSession(did, cause);
				this.#keys.forget(ended.dpopKey);
			},
			stored: (did, session) => this.#emitUpdated(did, session),
			forgetKey: (session) => this.#keys.forget(session.dpopKey),
			tracer,
		});
		this.#host = {
			nonces,
			fetch,
			now,
			clocks,
			deferrals: new RefreshDeferrals(now, lifetimes),
			lifetimes,
			nonceSightings: new PdsNonceSightings(now),
			sha256: options.sha256,
			tracer,
			refresh: (did, stale, refused) => this.#refresher.refresh(did, stale, refused),
			markRefusedOnArrival: (did, token) => {
				// counted for close() from its first read of the store (its write goes under the lock,
				// refused once closed: the mark is best effort)
				const marking = this.#refresher.markRefusedOnArrival(did, token);
				this.#work.track(marking);
				return marking;
			},
			signOut: (did, held) => this.#revoke(did, 'signed_out', held),
			sessionKey: (did, session) => this.#sessionKey(did, session),
		};
	}

	/**
	 * closes the client for a shutdown: from now on it refuses what would write to the stores or
	 * spend a token (`authorize()`, `callback()`, a refresh, a sign-out, with `ClientClosedError`,
	 * before anything is done), and the returned promise resolves once the work already under way
	 * has finished, its tokens stored. close the stores and locks only after it: a refresh whose
	 * new tokens cannot be stored has spent the old refresh token, and the user is signed out.
	 * calls with an access token still fresh go on working. idempotent: every call returns the
	 * same promise. stop taking requests first (see the README's "Shutting down").
	 */
	close(): Promise<void> {
		return this.#work.close();
	}

	/**
	 * listens to session events: `updated` after a sign-in or refresh is stored, `deleted` when a
	 * session ends (with its cause). listeners run after the store write and are never awaited (one
	 * may run before the refresh lock is released, but never holds it up); what they throw is ignored.
	 */
	addEventListener(listener: SessionEventListener): void {
		this.#events.add(listener);
	}

	/** stops calling a listener given to `addEventListener`. */
	removeEventListener(listener: SessionEventListener): void {
		this.#events.remove(listener);
	}

	/**
	 * starts a sign-in: resolves the account or server, pushes the authorization request (PAR,
	 * PKCE S256, DPoP, client assertion), and returns the URL to send the user to. the state,
	 * verifier and DPoP key stay server-side, in the state store. the request is signed with the
	 * keyset's first key the server takes, and with the next ones in turn when it is refused as
	 * `invalid_client` (a JWKS read before a new key went first); the sign-in is bound to the key taken.
	 * @see https://atproto.com/specs/oauth#authorization-requests
	 * @throws {OAuthResponseError} when the server refuses the request (`invalid_client` for every
	 *   key: the first key's refusal)
	 */
	authorize(options: AuthorizeOptions): Promise<AuthorizeResult> {
		return this.#work.run('authorize', () => this.#tracedAuthorize(options));
	}

	/** `authorize()`, traced when a tracer is set. */
	#tracedAuthorize(options: AuthorizeOptions): Promise<AuthorizeResult> {
		if (this.#tracer === undefined) return this.#authorize(options, undefined);
		const { target } = options ?? {};
		const context: AuthorizeTraceContext = { target: target?.type === 'pds' ? 'pds' : 'account' };
		if (target?.type === 'account' && typeof target.identifier === 'string') {
			// as typed, but trimmed and cut: a pasted line can carry more than a handle
			context.identifier = tracedText(target.identifier.trim(), MAX_TRACED_IDENTIFIER);
		}
		if (target?.type === 'pds') context.serviceUrl = tracedUrl(target.serviceUrl);
		return this.#tracer.trace('authorize', context, () => this.#authorize(options, context));
	}

	async #authorize(
		options: AuthorizeOptions,
		context: AuthorizeTraceContext | undefined,
	): Promise<AuthorizeResult> {
		if (typeof options !== 'object' || options === null) {
			throw new TypeError(`authorize(options) expects an object such as { target }, got ${kindOf(options)}`);
		}
		checkOptionNames('authorize(options)', options, AUTHORIZE_OPTIONS);
		const { target, signal } = options;
		checkSignal(signal);
		// before anything is resolved or sent: a JSON store would refuse it only at the write
		checkAppState(options.state);
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
		const scope = requestedScope(this.metadata.scope, options.scope);

		let server: AuthorizationServerMetadata;
		let expectedDid: Did | undefined;
		let loginHint: string | undefined;
		if (target?.type === 'account') {
			// not a string: the caller's mistake. a blank one is what a visitor left in a form, and is
			// refused below as any other input that is not a handle or DID (invalid_identifier)
			if (typeof target.identifier !== 'string') {
				throw new TypeError('target.identifier must be a handle or DID');
			}
			// a leading @ or at:// dropped, a handle lower-cased; anything but a handle or DID is
			// refused here, before a request goes anywhere on what a visitor typed
			const account = parseAccountIdentifier(target.identifier.trim(), { allowLocalhost: this.#allowHttp });
			loginHint = account.type === 'handle' ? account.handle : account.did;
			const actor = await resolveActor(this.#actorResolver, account, signal, this.#timeout, this.#allowHttp);
			expectedDid = actor.did;
			server = (await this.#discovery.resolveFromPds(actor.pds, { signal })).authorizationServer;
		} else if (target?.type === 'pds') {
			// a URL object (of any realm, or a polyfill's) works as well as its string
			const serviceUrl: unknown = target.serviceUrl;
			if (
				typeof serviceUrl !== 'string' &&
				typeof (serviceUrl as { href?: unknown } | null)?.href !== 'string'
			) {
				throw new TypeError(
					`target.serviceUrl must be a URL such as "https://bsky.social", got ${kindOf(target.serviceUrl)}`,
				);
			}
			server = (await this.#discovery.resolveFromService(target.serviceUrl, { signal })).authorizationServer;
		} else {
			throw new TypeError('target must be { type: "account", identifier } or { type: "pds", serviceUrl }');
		}
		if (context !== undefined) context.issuer = server.issuer;

		const thumbprints = await this.#clientKeyThumbprints();
		const { authMethod, clientKey } = negotiateClientAuth(this.keyset, server, thumbprints);
		const dpopKey = await generateDpopKey(
			server.dpop_signing_alg_values_supported,
			this.#createSigner ? { createSigner: this.#createSigner } : undefined,
		);
		const pkce = await createPkce(this.#host.sha256);
		const stateId = randomId(16);

		const state: StoredState = {
			issuer: server.issuer,
			dpopKey: await exportDpopKey(dpopKey),
			authMethod,
			verifier: pkce.verifier,
			redirectUri,
			expectedDid,
			// a copy, as of now (checked JSON data: the copy is exact): a store that keeps what it is
			// given (MemoryStore) would otherwise hand back the app's own object, as changed since
			appState: options.state === undefined ? undefined : JSON.parse(JSON.stringify(options.state)),
			expiresAt: this.#host.now() + STATE_TTL_MS,
			// a client of another client_id on the same store must not spend it (see #callback)
			clientId: this.metadata.client_id,
		};
		// everything the callback needs stays here; only the random state id travels
		await this.#storeState(stateId, state, signal);

		const params: Record<string, string> = {
			response_type: 'code',
			redirect_uri: redirectUri,
			scope,
			state: stateId,
			code_challenge: pkce.challenge,
			code_challenge_method: pkce.method,
		};
		if (loginHint !== undefined) params.login_hint = loginHint;
		if (options.prompt !== undefined) params.prompt = options.prompt;

		let requestUri: string;
		try {
			requestUri = await this.#pushAuthorizationRequest(server, clientKey, dpopKey, params, signal, {
				stateId,
				state,
				thumbprints,
			});
		} catch (err) {
			// the state goes; a store that stalls does not outlast the caller's signal here either (the
			// delete goes on, counted for close()), and one that throws at once (a synchronous store)
			// is caught as one that rejects: the error thrown is PAR's
			const deleting = (async () => this.#states.delete(stateId))().catch(() => {});
			this.#work.track(deleting);
			await (signal === undefined ? deleting : settleBefore(deleting, signal).catch(() => {}));
			throw err;
		}

		const url = new URL(server.authorization_endpoint);
		url.searchParams.set('client_id', this.metadata.client_id);
		url.searchParams.set('request_uri', requestUri);
		// the app binds it to the browser (a cookie) and checks the callback against it (login CSRF)
		return { url, stateId };
	}

	/**
	 * stores a sign-in's state. a store that stalls does not outlast the caller's signal; a write
	 * that fails or is left may land all the same, and is then deleted.
	 */
	async #storeState(stateId: string, state: StoredState, signal: AbortSignal | undefined): Promise<void> {
		const storing = Promise.resolve(this.#states.set(stateId, state, { expiresAt: state.expiresAt }));
		try {
			await (signal === undefined ? storing : settleBefore(storing, signal));
		} catch (err) {
			// the write may land all the same (the caller left while it ran, or its answer was lost):
			// once it settles, the state goes, rather than keep a DPoP private key and a PKCE verifier
			// for a sign-in nobody will finish. counted for close(), which keeps the store open for it
			this.#work.track(
				storing
					.catch(() => {})
					.then(() => this.#states.delete(stateId))
					.catch(() => {}),
			);
			throw err;
		}
	}

	/**
	 * pushes a sign-in's authorization request signed with `clientKey`, and when the server refuses
	 * it as `invalid_client`, with each other key of the keyset of its algorithm in turn (see
	 * `fallbackClientKeys`): a server that still holds the JWKS from before a new key went first
	 * (the reference PDS keeps it 10 minutes) takes the key before it. the state names each key
	 * before it is tried, as the callback must sign with the key the request was pushed with. all
	 * refused, the first refusal is thrown; any other failure, as it is.
	 */
	async #pushAuthorizationRequest(
		server: AuthorizationServerMetadata,
		clientKey: PrivateKey | undefined,
		dpopKey: DpopKey,
		params: Record<string, string>,
		signal: AbortSignal | undefined,
		{
			stateId,
			state,
			thumbprints,
		}: { stateId: string; state: StoredState; thumbprints: ClientKeyThumbprints },
	): Promise<string> {
		const keys =
			clientKey === undefined ? [undefined] : [clientKey, ...fallbackClientKeys(this.keyset, clientKey)];
		let firstRefusal: OAuthResponseError | undefined;
		for (const key of keys) {
			if (key !== clientKey && key !== undefined) {
				// a new object: a store may keep the one it was given
				await this.#storeState(stateId, { ...state, authMethod: boundAuthMethod(key, thumbprints) }, signal);
			}
			try {
				const agent = this.#createAgent(server, key, dpopKey);
				return (await agent.pushAuthorizationRequest(params, signal)).requestUri;
			} catch (err) {
				// a public client has no other key; nor has a failure other than the key's refusal a cure in one
				if (key === undefined || !(err instanceof OAuthResponseError && err.error === 'invalid_client')) {
					throw err;
				}
				firstRefusal ??= err;
			}
		}
		throw firstRefusal;
	}

	/**
	 * completes a sign-in from the redirect's query parameters. in order: no repeated parameter,
	 * the state (single use, 10 minutes), `iss` (RFC 9207, error responses too), the server's `error`, then the code is
	 * exchanged once; the token's `sub` must be the expected account and must resolve back to
	 * this issuer. a session the account had already is replaced, and its grant revoked (best
	 * effort: the sign-in stands if its server does not answer).
	 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.1
	 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
	 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
	 * @see https://atproto.com/specs/oauth#authorization-callback
	 * @param params the redirect's query: its `URLSearchParams`, or the `URL` itself
	 * @param options `signal`: the request's `AbortSignal` (the visitor went away, its deadline
	 *   passed). aborted before the code is sent, the state is kept (the same callback can complete
	 *   later); during the token request (let finish) or after, the tokens are revoked and nothing
	 *   is stored; once the session is stored, the sign-in stands and the call resolves
	 * @throws {OAuthCallbackError} for a refused or invalid callback (`error` says which)
	 * @throws {IdentityMismatchError} when the account is not the expected one (tokens revoked)
	 * @throws {OAuthResponseError} when the token endpoint refuses the code (`invalid_grant`: it
	 *   expired, or was used); the state is used up
	 * @throws {OAuthTransientError} when the token request fails in a way that may pass (network,
	 *   time-out, 5xx, 429); the state is used up, but for a connection never made (refused, no
	 *   such host: nothing was sent), which puts it back
	 * @throws {InvalidResponseError} for a token response that breaks the rules (no `DPoP-Nonce`,
	 *   a redirect, a `sub` that is no atproto DID); tokens revoked, the state used up
	 * @throws {DiscoveryError} when a server's metadata cannot be read: before the code is sent,
	 *   one with `transient: true` puts the state back (the same callback can complete later);
	 *   after it (the account's PDS read again), the state is used up and the tokens revoked
	 * @throws {IdentityResolutionError} when the account's identity cannot be checked (tokens revoked)
	 * @throws {AuthMethodUnsatisfiableError} when the sign-in was started with a client key this
	 *   process's keyset lacks (a rolling deploy): nothing is sent, and the state goes back, so a
	 *   process that has the key can complete the same callback
	 * @throws the lock's or the session store's own error (a `LockTimeoutError`, say) when the
	 *   session cannot be stored, and the transport's own refusal (the Node facade's
	 *   `PrivateNetworkError`) as it is; whatever tokens were issued are revoked
	 * @throws {TypeError} for `params` of another kind (a string, a framework's query object), or
	 *   options that are not `{ signal? }` (the state is not spent)
	 * @throws the signal's own `reason` when it aborts before the session is stored
	 */
	callback(params: URLSearchParams | URL, options?: CallbackOptions): Promise<CallbackResult> {
		// the whole of it, from taking the state to storing the session: a code exchanged must be stored
		return this.#work.run('callback', () => {
			if (this.#tracer === undefined) return this.#callback(params, options, undefined);
			const context: CallbackTraceContext = {};
			return this.#tracer.trace('callback', context, () => this.#callback(params, options, context));
		});
	}

	async #callback(
		input: URLSearchParams | URL,
		options: CallbackOptions | undefined,
		context: CallbackTraceContext | undefined,
	): Promise<CallbackResult> {
		// what is not a query is refused before the state is spent, as are options that are not ours
		const params = toCallbackParams(input);
		checkCallbackOptions(options);
		const signal = options?.signal;
		// a repeated code, state, iss or error is refused before anything is taken or exchanged
		const stateId = readCallbackState(params);
		// a caller already gone takes nothing: the state stays for the same callback to complete
		signal?.throwIfAborted();
		// single use, enforced here whatever the store does: a replayed callback finds nothing
		const taking = Promise.resolve(this.#takeState(stateId));
		let taken: Awaited<typeof taking>;
		try {
			taken = await (signal === undefined ? taking : settleBefore(taking, signal));
		} catch (err) {
			// the caller left while the store took its time: a state taken after that goes back, so
			// the same callback (a reload) can still complete
			if (signal?.aborted) {
				const returning = taking.then(
					(late) => (late === undefined ? undefined : this.#putBackState(stateId, late)),
					() => {},
				);
				// counted for close(): the stores must stay open until it is back
				this.#work.track(returning);
				// the same callback again meanwhile (a reload) waits for it to be back
				returnState(this.#states, stateId, returning);
			}
			throw err;
		}
		if (taken === undefined) {
			throw new OAuthCallbackError('invalid_state', 'unknown or already used state');
		}
		let stored: StoredState;
		try {
			stored = readStoredState(taken);
		} catch (err) {
			// a state this version cannot read (one a newer release stored in its own format, met in a
			// rolling deploy or after a rollback): no code was sent, so it goes back under its own
			// expiry, and the same callback (a reload) reaching a process that reads it completes
			await this.#putBackState(stateId, taken);
			throw err;
		}
		if (stored.clientId !== undefined && stored.clientId !== this.metadata.client_id) {
			// another client's sign-in (a state store shared by two client_ids): its code would go to
			// the token endpoint under our client_id, and be refused there, spent. it goes back, whole,
			// for the client that started it
			await this.#putBackState(stateId, taken);
			throw new OAuthCallbackError('invalid_state', 'the state belongs to another client_id');
		}
		if (context !== undefined) context.issuer = stored.issuer;
		// expiry, then iss, then the server's error, then the code: only a checked callback exchanges
		const checked = checkCallback(params, stored, this.#host.now());
		/**
		 * puts the state back, best effort, when its code was not sent: a reload can complete it. a
		 * caller who gave up is not held by a store that stalls (its signal bounds the store's calls):
		 * the write goes on, counted for close(), and the same callback meanwhile waits for it.
		 */
		const putBack = async (): Promise<void> => {
			const returning = this.#putBackState(stateId, taken);
			if (signal === undefined) return returning;
			this.#work.track(returning);
			returnState(this.#states, stateId, returning);
			// an abort before or during the write lets the caller go (never rejects: best effort)
			await settleBefore(returning, signal).catch(() => {});
		};
		/**
		 * the state is spent and no session holds its DPoP key: the imported key (its private scalar
		 * among it) leaves memory now, not when the cache's bound pushes it out.
		 */
		const forgetStateKey = () => this.#keys.forget(stored.dpopKey);

		let agent: AuthorizationServerAgent;
		try {
			agent = this.#createAgent(
				await this.#discovery.resolveAuthorizationServer(stored.issuer, { signal }),
				await this.#boundClientKey(stored.expectedDid, stored.authMethod, { signIn: true }),
				await this.#keys.get(stored.dpopKey),
			);
			// the last moment the caller's abort leaves the code unsent
			signal?.throwIfAborted();
		} catch (err) {
			// the code was not sent: after a failure that may pass (the server's metadata out of
			// reach) or the caller's abort, the state goes back, so the same callback (a reload) can
			// still complete
			const aborted = signal?.aborted === true;
			// a key this process lacks: in a rolling deploy (a key added, or put first), the process
			// that started the sign-in, or another updated one, has it and can complete the same callback
			if (aborted || isTransient(err) || err instanceof AuthMethodUnsatisfiableError) await putBack();
			// the caller may have given up while the state went back
			throw signal?.aborted ? signal.reason : err;
		}

		// the tokens' lifetime counts from the request: read after the answer (and the identity
		// check below, which can take seconds), the clock would let them outlive the server's
		const sentAt = this.#host.now();
		const sentMonotonic = this.#lifetimes?.sentAt();
		// an abort from here on spends the state: the code may have reached the server. the token
		// request is not cut short by it (its own time limit bounds it): cut short, it would leave
		// the tokens the server issued out of reach of any revocation. the check after it sees the
		// abort, and the failure path revokes them
		let tokens: TokenResponse;
		try {
			tokens = await agent.exchangeCode(checked.code, stored.verifier, stored.redirectUri, () => {
				// a retry (for a DPoP nonce, or the server's clock) is a new request with a time limit of
				// its own: not sent for a caller who has gone. the refusal it would answer spent nothing
				// (the proof and the client are checked before the code), so the state goes back
				if (signal?.aborted) throw new Error('the caller gave up before the token request was sent again');
			});
		} catch (err) {
			// the request failed before it was sent (its assertion or DPoP proof could not be
			// signed), or its retry was not sent for a caller gone: the code is unspent, and the state
			// goes back for the same callback (a reload)
			if (wasNotSent(err)) await putBack();
			else forgetStateKey();
			// nothing was issued, or nothing we could read: the caller who gave up meanwhile gets its
			// own reason, as for every abort
			if (signal?.aborted) throw signal.reason;
			throw err;
		}
		const did = tokens.sub;
		let session: StoredSession;
		let replaced: StoredSession | undefined;
		/** set once the session is stored: it, and the session it replaced (if any). */
		let written: { session: StoredSession; previous: StoredSession | undefined } | undefined;
		/** how many keys the cache had forgotten when the session was stored (see the end). */
		let forgotten = 0;
		try {
			if (stored.expectedDid !== undefined && did !== stored.expectedDid) {
				throw new IdentityMismatchError('sub', stored.expectedDid, did);
			}
			// a sign-in started at a server names no account: the server chose this DID, and its
			// document is fetched next, so it is held to the rules a handle's DID is (no IP address,
			// no port but on localhost under allowHttp), not fetched from wherever it points
			const problem = stored.expectedDid === undefined ? atprotoDidProblem(did, this.#allowHttp) : undefined;
			if (problem !== undefined) {
				throw new InvalidResponseError('token', `"sub" is no atproto DID: ${problem}`);
			}

			// the account's own identity must lead back to this issuer: otherwise any server could
			// issue tokens claiming any DID
			const identity = await resolveIdentityAfresh(this.#actorResolver, this.#discovery, did, {
				timeout: this.#timeout,
				issuer: stored.issuer,
				signal,
			});
			if (identity.issuer !== stored.issuer) {
				throw new IdentityMismatchError('issuer', stored.issuer, identity.issuer);
			}
			// the account is checked: a failure from here on (the store, the lock, an abort) is
			// traced as that account's
			if (context !== undefined) context.sub = did;

			session = {
				dpopKey: stored.dpopKey,
				authMethod: stored.authMethod,
				tokenSet: toTokenSet(tokens, stored.issuer, identity.pds, sentAt),
				// whose grant it is: a client of another client_id on the same store reads it as none
				clientId: this.metadata.client_id,
			};
			if (sentMonotonic !== undefined) this.#lifetimes?.note(session.tokenSet, sentMonotonic);
			// under the lock: a refresh of an older session of this account must not overwrite it.
			// set once the write begins: until then, a caller who gives up (while another holder has
			// the lock, or while the stored session is read under it) is let go, and the function,
			// which sees the abort before it writes, stores nothing
			let writing = false;
			const storing = underLockRetryingOnce(this.#lock, sessionLockName(did), async (lost) => {
				// a caller gone while it waited for the lock: nothing is read
				signal?.throwIfAborted();
				const read = await readBeforeReplacing(this.#sessions, did);
				// another client's session of this account (see readStoredSession) is replaced, not
				// revoked: its tokens were not issued to this client, which cannot revoke them
				const previous = replacedSession(did, read?.value, this.#rules);
				// the hold lost during the read: another holder may have stored a session since, which
				// this write would overwrite unrevoked. read again under the lock taken anew
				checkWriteHold(sessionLockName(did), lost);
				// the caller's last word, just before the write (not before the read, which can take its
				// time): once the write begins, the sign-in stands (an abort then is not thrown, and the
				// pauses between retried writes are not cut short)
				signal?.throwIfAborted();
				writing = true;
				// retried only over the value read just now (or none, as then)
				await storeIssuedSession(
					this.#sessions,
					did,
					session,
					(stored) => accessTokenOf(stored) === accessTokenOf(read?.value),
				);
				written = { session, previous };
				forgotten = this.#keys.forgotten;
				this.#emitUpdated(did, session);
				return previous;
			});
			// counted for close() whatever the caller does: a caller let go below leaves the lock call
			// running, and the app must not close the lock's backend under it
			this.#work.track(storing);
			// a caller who gives up before the write begins is let go (once the tokens are revoked, below)
			replaced = await waitForLock(storing, signal, () => writing);
		} catch (err) {
			// stored, then the lock failed (its release, say): the session is kept and live, and the
			// sign-in stands, as once it is stored. its tokens must not be revoked under it
			if (written !== undefined) {
				({ session, previous: replaced } = written);
			} else {
				// nothing is kept from a sign-in that failed (or that the caller gave up on): revoke
				// what was issued, on a deadline of its own, never the caller's aborted signal
				await agent
					.revoke(tokens.refresh_token ?? tokens.access_token, AbortSignal.timeout(REVOCATION_TIMEOUT_MS))
					.catch(() => {});
				forgetStateKey();
				throw err;
			}
		}
		// the grant this sign-in replaced is no longer stored, so no sign-out could end it: it is
		// revoked now, best effort (the sign-in stands whatever its server says), by its refresh
		// token alone, one round trip; never when the new session holds one of its tokens. an object
		// that still holds it adopts the new tokens once its own are refused
		if (replaced !== undefined && !sharesToken(replaced, session)) {
			await this.#revokeAtServer(did, replaced, AbortSignal.timeout(REVOCATION_TIMEOUT_MS), true);
			if (replaced.dpopKey?.d !== session.dpopKey.d) this.#keys.forget(replaced.dpopKey);
		}

		const key = await this.#keys.get(session.dpopKey);
		// a sign-out while the replaced grant was revoked (or the key imported) may have ended this
		// session and forgotten its key, which the get above put back: as restore() does, it goes
		// again
		if (this.#keys.forgottenSince(session.dpopKey, forgotten)) this.#keys.drop(session.dpopKey);
		return { session: new OAuthSession(this.#host, did, session, key), state: stored.appState };
	}

	/**
	 * the session of an account, refreshed first when its access token is about to expire.
	 * @throws {SessionNotFoundError} when there is none
	 * @throws {TokenRefreshError} when the refresh ended the session (`reason` says why)
	 * @throws {AuthMethodUnsatisfiableError} when the session's key left the keyset (it is ended)
	 * @throws {OAuthTransientError} when a server or the identity could not be reached (kept)
	 * @throws {IdentityResolutionError} when, at a refresh, the account's identity is gone for good
	 *   (`not_found`: a deleted DID); the session is kept
	 * @throws {DiscoveryError} when, at a refresh, the account's PDS or authorization server metadata
	 *   is refused (kept)
	 * @throws {TypeError} when `did` is not a DID, or `refresh` not one of its values
	 */
	async restore(did: Did, options: RestoreOptions = {}): Promise<OAuthSession> {
		checkDidArgument('restore', did);
		checkRestoreOptions(options);
		const { refresh = 'auto' } = options;
		const forgotten = this.#keys.forgotten;
		// a store that answers null for a missing key (as many clients do) means none too
		const stored = await this.#sessions.get(did);
		if (stored == null) {
			throw new SessionNotFoundError(did);
		}
		let session = readStoredSession(did, stored, this.#rules);

		if (refresh === true) {
			({ session } = await this.#refresher.refresh(did, undefined));
		} else {
			const { tokenSet } = session;
			const refreshed =
				refresh === 'auto' && isStale(tokenSet, this.#host.now())
					? await this.#host.deferrals.beforeExpiry(did, tokenSet, () =>
							this.#refresher.refresh(did, tokenSet.access_token),
						)
					: undefined;
			if (refreshed !== undefined) ({ session } = refreshed);
			// the stored session goes on being used: not if its key left the keyset, or was replaced under
			// its kid (it can never refresh)
			else if ((await this.#unsatisfiedBinding(did, session)) !== undefined)
				session = await this.#endIfKeyRemoved(did);
		}

		const key = await this.#sessionKey(did, session);
		// this session ended meanwhile (signed out, say), its key forgotten: imported here, its private
		// key would stay in memory, readable from a heap dump. it goes again
		if (this.#keys.forgottenSince(session.dpopKey, forgotten)) this.#keys.drop(session.dpopKey);
		return new OAuthSession(this.#host, did, session, key);
	}

	/**
	 * the imported DPoP key of a session read from the store. one that cannot be imported (damaged,
	 * or written by hand) makes the session unreadable, as a missing field does: the stored value is
	 * at fault, not the caller, and it is kept for `revoke()` to delete. a key of an algorithm this
	 * runtime cannot sign with (ES256K without secp256k1) is no damage: its `InvalidKeyError`
	 * (`unsupported_alg`) is thrown as it is, and says what to do.
	 * @throws {UnreadableSessionError} when the key cannot be imported (the `InvalidKeyError` as `cause`)
	 */
	async #sessionKey(did: Did, session: StoredSession): Promise<DpopKey> {
		try {
			return await this.#keys.get(session.dpopKey);
		} catch (err) {
			if (isInvalidKeyError(err) && err.reason !== 'unsupported_alg') {
				// the key's own problem, which names no key material (InvalidKeyError's rule)
				throw new UnreadableSessionError(did, `dpopKey: ${err.message}`, { cause: err });
			}
			throw err;
		}
	}

	/**
	 * the RFC 7638 thumbprints of the keyset's keys, computed once (a failure is not kept: the
	 * next call computes them again).
	 */
	#clientKeyThumbprints(): Promise<ClientKeyThumbprints> {
		if (this.#thumbprints === undefined) {
			const computing = thumbprintKeyset(this.keyset, this.#host.sha256 ?? sha256Base64url);
			this.#thumbprints = computing;
			computing.catch(() => {
				if (this.#thumbprints === computing) this.#thumbprints = undefined;
			});
		}
		return this.#thumbprints;
	}

	/**
	 * the client key `authMethod` is bound to (see `pinnedClientKey`); undefined for a public client.
	 * @throws {AuthMethodUnsatisfiableError} when the keyset no longer has it, or has other key
	 *   material under its `kid`
	 */
	async #boundClientKey(
		did: Did | undefined,
		authMethod: StoredSession['authMethod'],
		options?: { signIn?: boolean },
	): Promise<PrivateKey | undefined> {
		// only a session that recorded its key's thumbprint needs the keyset's. one that cannot be
		// computed (an app's own sha256 that failed) leaves the binding to the kid: the server holds
		// the grant to the key all the same, and a sign-out still revokes it
		const thumbprints =
			authMethod.method === 'private_key_jwt' && authMethod.jkt !== undefined
				? await this.#clientKeyThumbprints().catch(() => undefined)
				: undefined;
		return pinnedClientKey(this.keyset, authMethod, did, thumbprints, options);
	}

	/** why a session can never refresh with this keyset (its key removed, or replaced), if so. */
	async #unsatisfiedBinding(
		did: Did,
		session: StoredSession,
	): Promise<AuthMethodUnsatisfiableError | undefined> {
		try {
			await this.#boundClientKey(did, session.authMethod);
			return undefined;
		} catch (err) {
			if (err instanceof AuthMethodUnsatisfiableError) return err;
			throw err;
		}
	}

	/**
	 * ends the session of `did` now rather than at its next refresh, when, read again under its
	 * lock, it is still bound to a removed key; otherwise returns it (a sign-in that finished
	 * meanwhile stored a new session, which must not be deleted).
	 * @throws {AuthMethodUnsatisfiableError} when it was ended
	 * @throws {SessionNotFoundError} when it was deleted meanwhile
	 */
	#endIfKeyRemoved(did: Did): Promise<StoredSession> {
		return this.#work.run('restore', () => this.#endIfKeyRemovedLocked(did));
	}

	/** what `#endIfKeyRemoved` does, once counted for `close()`. */
	#endIfKeyRemovedLocked(did: Did): Promise<StoredSession> {
		return underLockRetryingOnce(this.#lock, sessionLockName(did), async (lost) => {
			const stored = await this.#sessions.get(did);
			if (stored == null) throw new SessionNotFoundError(did);
			const current = readStoredSession(did, stored, this.#rules);
			const error = await this.#unsatisfiedBinding(did, current);
			if (error === undefined) return current;
			// a session another holder stored since the read (a sign-in again) is not this one's to end
			checkWriteHold(sessionLockName(did), lost);
			// a failed delete must not hide why the session ended (as at a refresh): the session
			// stays, and its next restore ends it again
			await this.#endOn(did, error).catch(() => {});
			this.#keys.forget(current.dpopKey);
			throw error;
		});
	}

	/**
	 * signs an account out: revokes its refresh token (ending the grant) and access token at the
	 * server, best effort within 5 seconds, and always deletes the stored session. idempotent.
	 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.1
	 * @throws {TypeError} when `did` is not a DID (a handle, the session itself): nothing is revoked
	 */
	async revoke(did: Did): Promise<void> {
		checkDidArgument('revoke', did);
		return this.#revoke(did, 'revoked');
	}

	/**
	 * revokes and deletes the stored session of `did`; `held` is a session object's own (its
	 * `signOut()`), revoked as well when its grant is not the stored one.
	 */
	async #revoke(did: Did, cause: 'revoked' | 'signed_out', held?: StoredSession): Promise<void> {
		const context: RevokeTraceContext = { sub: did, cause };
		const run = () => this.#work.run('revoke', () => this.#revokeLocked(did, cause, held, context));
		await (this.#tracer === undefined ? run() : this.#tracer.trace('revoke', context, run));
	}

	/** what `#revoke` does, once counted for `close()`. */
	async #revokeLocked(
		did: Did,
		cause: SessionDeletedCause,
		held: StoredSession | undefined,
		context: RevokeTraceContext,
	): Promise<void> {
		// the tokens the server confirmed revoked: a run done again after a lost hold sends them no more
		const revoked = new Set<string>();
		await underLockRetryingOnce(this.#lock, sessionLockName(did), async (lost) => {
			// one deadline for everything sent, the servers' metadata lookups included
			const signal = AbortSignal.timeout(REVOCATION_TIMEOUT_MS);
			let session: StoredSession | undefined;
			try {
				// null from a store that answers so for a missing key: none either
				session = (await this.#sessions.get(did)) ?? undefined;
			} catch (err) {
				// a session the store can never read (an encrypted one whose key was retired, a
				// tampered row): its tokens cannot be revoked at the server, but signing out must
				// still end it here, or the user could never sign out. a store that is down keeps it
				if ((err as { transient?: unknown } | undefined)?.transient !== false) throw err;
				checkWriteHold(sessionLockName(did), lost);
				await this.#endSession(did, cause, false);
				// a session was stored, and is deleted unrevoked (as its `deleted` event says): not
				// the absence that says none of this client's was stored
				context.revokedAtServer = false;
				if (held !== undefined) await this.#revokeAtServer(did, held, signal, false, revoked);
				this.#keys.forget(held?.dpopKey);
				return;
			}
			// another app's session (a store shared by two client_ids): not this client's to end
			if (otherClientOf(session, this.metadata.client_id) !== undefined) session = undefined;
			// another account's, found under a key the store matched to this DID: not this DID's to end
			if (otherAccountOf(session, did)) session = undefined;
			if (session !== undefined) {
				// optional: a stored value of another shape is still signed out (see #revokeAtServer)
				const issuer = (session.tokenSet as Partial<TokenSet> | undefined)?.iss;
				if (typeof issuer === 'string') context.issuer = issuer;
				// whether the server confirmed the grant's end, for the `deleted` event: a grant left
				// alive there is worth knowing about, though the local session goes either way
				const revokedAtServer = await this.#revokeAtServer(did, session, signal, false, revoked);
				context.revokedAtServer = revokedAtServer;
				// the hold lost while the server was asked (up to 5 s): another holder may have stored a
				// session since (a sign-in again), whose grant a delete now would leave live and stored
				// nowhere. done again under the lock taken anew: what is stored then is revoked and
				// deleted. the session revoked just now has its key leave memory here, as the next run
				// may find none stored (signed out elsewhere) or another session
				if (lost?.aborted) this.#keys.forget(session.dpopKey);
				checkWriteHold(sessionLockName(did), lost);
				await this.#endSession(did, cause, revokedAtServer);
				// the ended session's private key leaves memory with it (see DpopKeyCache.forget)
				this.#keys.forget(session.dpopKey);
			}
			// the object signing out may hold other tokens than the store (the account signed in
			// again since, or was signed out elsewhere): they are good at the server until revoked
			if (held !== undefined && !sameTokens(held, session)) {
				await this.#revokeAtServer(did, held, signal, false, revoked);
			}
			this.#keys.forget(held?.dpopKey);
			// none stored here (ended by another process): what this one noted goes all the same
			this.#forgetAccount(did);
		});
	}

	/**
	 * revokes a session's refresh token (ending its grant), then its access token (unless
	 * `grantOnly`: the grant's end is enough), best effort before `signal`; whether the server
	 * confirmed the grant's end. never throws. the tokens in `done` are taken as revoked, not sent
	 * again, and those the server confirms are added to it (a sign-out run again after a lost hold).
	 */
	async #revokeAtServer(
		did: Did,
		session: StoredSession,
		signal: AbortSignal,
		grantOnly = false,
		done?: Set<string>,
	): Promise<boolean> {
		let revokedAtServer = false;
		try {
			const { refresh_token, access_token } = session.tokenSet;
			const agent = await this.#agentFor(did, session, signal);
			const revoked = async (token: string) => {
				// revoked already by this sign-out (a run before a lost hold): confirmed, not sent again
				if (done?.has(token)) return true;
				const ok = await agent.revoke(token, signal).catch(() => false);
				if (ok) done?.add(token);
				return ok;
			};
			// the refresh token first: revoking only the access token would leave the grant alive
			if (refresh_token !== undefined) revokedAtServer = await revoked(refresh_token);
			if (grantOnly && refresh_token !== undefined) return revokedAtServer;
			const accessRevoked = await revoked(access_token);
			if (refresh_token === undefined) revokedAtServer = accessRevoked;
		} catch {
			// best effort: the local session goes whatever the server said
		}
		return revokedAtServer;
	}

	/** ends the session when `error` is definitive (the one rule, `sessionEndCause`); under the lock. */
	async #endOn(did: Did, error: unknown): Promise<void> {
		const cause = sessionEndCause(error);
		if (cause !== undefined) await this.#endSession(did, cause);
	}

	/** the one way a session is deleted: the store first, then the `deleted` event. */
	async #endSession(did: Did, cause: SessionDeletedCause, revokedAtServer?: boolean): Promise<void> {
		await this.#sessions.delete(did);
		this.#forgetAccount(did);
		this.#events.emit(
			revokedAtServer === undefined
				? { type: 'deleted', sub: did, cause }
				: { type: 'deleted', sub: did, cause, revokedAtServer },
		);
	}

	/**
	 * forgets what this process noted about `did`'s refreshes (a Retry-After hold, a deferral):
	 * a signed-out or erased account's DID stays in no map of the client's.
	 */
	#forgetAccount(did: Did): void {
		this.#refresher.forget(did);
		this.#host.deferrals.forget(did);
	}

	#emitUpdated(did: Did, session: StoredSession): void {
		if (!this.#events.active) return;
		this.#events.emit(async () => ({
			type: 'updated',
			sub: did,
			session: new OAuthSession(this.#host, did, session, await this.#keys.get(session.dpopKey)),
		}));
	}

	/**
	 * puts a taken state back, whole (a format this version cannot read, or another client's,
	 * included), under its own expiry: its code was not sent, so the same callback (a reload) can
	 * still complete. one that has run out, or whose expiry this version cannot read, stays spent.
	 * best effort, a synchronous store's throw included: the error thrown is the callback's own.
	 */
	async #putBackState(stateId: string, taken: unknown): Promise<void> {
		const expiresAt = (taken as { expiresAt?: unknown } | null)?.expiresAt;
		if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt) || !(expiresAt > this.#host.now()))
			return;
		try {
			await this.#states.set(stateId, taken as StoredState, { expiresAt });
		} catch {
			// the state is lost: the way on is a new authorize()
		}
	}

	/** the agent for a stored session: its issuer, its pinned client key, its DPoP key. */
	async #agentFor(did: Did, session: StoredSession, signal?: AbortSignal): Promise<AuthorizationServerAgent> {
		const clientKey = await this.#boundClientKey(did, session.authMethod);
		return this.#createAgent(
			await this.#discovery.resolveAuthorizationServer(session.tokenSet.iss, { signal }),
			clientKey,
			await this.#sessionKey(did, session),
		);
	}
}
