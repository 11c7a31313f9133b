// the types the API above mentions from the packages this one depends on: an app installed by
// pnpm cannot import those packages, and a declaration it emits that names one of these types
// would fail with TS2742 ("cannot be named ... not portable") unless this entry exports it
export type { DpopNonceCache, DpopPrivateJwk, FetchFunction, Secp256k1PrivateJwk } from '@atcute/oauth-dpop';
export type {
	CreateSigner,
	EcPrivateJwk,
	EcPublicJwk,
	GeneratedSigner,
	JwkSigner,
	Jwks,
	KeySearch,
	PrivateKey,
	PublicJwk,
	PublishedJwk,
	RsaPrivateJwk,
	RsaPublicJwk,
	Sha256Function,
	SignerFromJwk,
	SignerFromSecp256k1Jwk,
	SignerGenerate,
	SignFunction,
	SigningAlgorithm,
	SigningKey,
	WebCryptoKey,
	WebCryptoKeyShape,
} from '@atcute/oauth-keys';
// a class: exported as a value, so that an editor's import of it from here can build one
export { Keyset } from '@atcute/oauth-keys';
export type {
	AccountAction,
	AccountAttribute,
	AccountRequest,
	BlobRequest,
	IdentityAttribute,
	IdentityRequest,
	PermissionRequest,
	RepoAction,
	RepoRequest,
	RpcRequest,
} from '@atcute/oauth-scope';
export {
	buildClientMetadata,
	buildLoopbackClientMetadata,
	type ClientMetadataInput,
	type OAuthClientMetadata,
} from './client-metadata.ts';
export {
	AuthMethodUnsatisfiableError,
	ClientClosedError,
	type ClosedClientOperation,
	IdentityMismatchError,
	IdentityResolutionError,
	type IdentityResolutionFailure,
	InvalidResponseError,
	LockTimeoutError,
	LockUnavailableError,
	OAuthCallbackError,
	type OAuthClientErrorCode,
	OAuthResponseError,
	OAuthTransientError,
	SessionNotFoundError,
	TokenRefreshError,
	type TokenRefreshFailure,
	type TransientErrorKind,
	UnreadableSessionError,
} from './errors.ts';
export { createMemoryLock, LOCK_WAIT_MS, type LockFunction, type MemoryLockOptions } from './lock.ts';
export { OAuthClient } from './oauth-client.ts';
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
export { OAuthSession, type TokenInfo } from './oauth-session.ts';
export type {
	OAuthSessionEvent,
	SessionDeletedCause,
	SessionDeletedEvent,
	SessionEventListener,
	SessionUpdatedEvent,
} from './session-events.ts';
export type { Awaitable, Store, StoreGetOptions, StoreSetOptions } from './store.ts';
export type {
	ClientAuthMethod,
	SessionStore,
	StateStore,
	StoredSession,
	StoredState,
	TokenSet,
} from './stored-types.ts';
export type {
	AuthorizeTraceContext,
	CallbackTraceContext,
	OAuthTracer,
	RefreshTraceContext,
	RequestTraceContext,
	RevokeTraceContext,
	TraceContexts,
	TraceOperation,
} from './tracer.ts';
