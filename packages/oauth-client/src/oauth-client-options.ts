import type { ActorResolver } from '@atcute/identity-resolver';
import type { ActorIdentifier } from '@atcute/lexicons';
import type { DpopNonceCache, FetchFunction } from '@atcute/oauth-dpop';
import type { CreateSigner, Keyset, PrivateKey, Sha256Function } from '@atcute/oauth-keys';

import type { ClientMetadataInput } from './client-metadata.ts';
import type { LockFunction } from './lock.ts';
import type { OAuthSession } from './oauth-session.ts';
import type { SessionStore, StateStore } from './stored-types.ts';
import type { OAuthTracer } from './tracer.ts';

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
	/** where sessions, authorization attempts and DPoP nonces are kept; see `OAuthClientStores`. */
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
	 * > development only: allows plain-http PDSes and authorization servers (a local PDS), and
	 * > sign-in by `did:web:localhost` (a port on it too), which atproto keeps for testing.
	 *
	 * a boolean only: a string (`process.env.ALLOW_HTTP`, even `'false'`) is refused.
	 */
	allowHttp?: boolean | undefined;
	/**
	 * > [!WARNING]
	 * > this option has security implications. it turns off the atproto rule that a successful
	 * > token response must carry a `DPoP-Nonce` header ("clients must reject responses missing a
	 * > DPoP-Nonce header"). only for an authorization server known not to follow the spec.
	 *
	 * default false: such a response is refused with an `InvalidResponseError`.
	 */
	dangerouslySkipDpopNonceCheck?: boolean | undefined;
	/**
	 * how the DPoP keys sign their proofs; default WebCrypto. the keyset's keys sign client
	 * assertions as they were imported: give the same `createSigner` to `importJwkKey`.
	 */
	createSigner?: CreateSigner | undefined;
	/**
	 * how base64url SHA-256 is computed: each sign-in's PKCE challenge and, once per restored
	 * session, the DPoP `ath`; default WebCrypto's (`sha256Base64url`). the Node facade passes
	 * node:crypto's, which answers synchronously.
	 */
	sha256?: Sha256Function | undefined;
	/** the clock, in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
	/**
	 * the time limit for each request to an authorization server (three times it, at most 2³¹−1 ms,
	 * for a token request: the code exchange or a refresh, which spends its code or refresh token once
	 * sent) or for a discovery document, for
	 * resolving the handle or DID given to `authorize`, and for resolving an account's DID afresh
	 * (in the callback and before each refresh), in milliseconds; default 10 000. a request over
	 * it fails with a transient error; a resolution over it, as the identity not resolvable.
	 */
	timeout?: number | undefined;
	/**
	 * an instrumentation hook around `authorize`, `callback`, each refresh, each sign-out
	 * (`revoke`) and each request a session makes (the Node facade publishes them on
	 * `diagnostics_channel`); default none.
	 */
	tracer?: OAuthTracer | undefined;
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
	prompt?: 'none' | 'login' | 'consent' | 'select_account' | 'create' | undefined;
	/** aborts resolution and the PAR request. */
	signal?: AbortSignal | undefined;
}

/** what `authorize()` returns. */
export interface AuthorizeResult {
	/** where to send the user's browser. */
	url: URL;
	/**
	 * the random state id the callback will carry as its `state` parameter. keep it in the
	 * browser that started the sign-in (an `HttpOnly` cookie) and check the callback's `state`
	 * against it before calling `callback()`: otherwise anyone can send your user to the callback
	 * of a sign-in of their own account (login CSRF, RFC 6749 §10.12). not a secret of its own.
	 */
	stateId: string;
}

/** options for `callback()`. */
export interface CallbackOptions {
	/**
	 * gives up on the sign-in (the caller's request was cancelled, or its deadline passed): the
	 * call rejects with the signal's own `reason`. before the code is sent, the state is kept for
	 * the same callback to complete later; once the session is stored, the sign-in stands.
	 */
	signal?: AbortSignal | undefined;
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
