export {
	AuthMethodUnsatisfiableError,
	type AuthorizeOptions,
	type AuthorizeResult,
	type AuthorizeTarget,
	type AuthorizeTraceContext,
	type Awaitable,
	buildClientMetadata,
	buildLoopbackClientMetadata,
	type CallbackOptions,
	type CallbackResult,
	type CallbackTraceContext,
	type ClientAuthMethod,
	ClientClosedError,
	type ClientMetadataInput,
	type ClosedClientOperation,
	createMemoryLock,
	IdentityMismatchError,
	IdentityResolutionError,
	type IdentityResolutionFailure,
	InvalidResponseError,
	type LockFunction,
	LockTimeoutError,
	LockUnavailableError,
	type MemoryLockOptions,
	OAuthCallbackError,
	type OAuthClientErrorCode,
	type OAuthClientMetadata,
	type OAuthClientStores,
	OAuthResponseError,
	OAuthSession,
	type OAuthSessionEvent,
	type OAuthTracer,
	OAuthTransientError,
	type RefreshTraceContext,
	type RequestTraceContext,
	type RestoreOptions,
	type RevokeTraceContext,
	type SessionDeletedCause,
	type SessionDeletedEvent,
	type SessionEventListener,
	SessionNotFoundError,
	type SessionStore,
	type SessionUpdatedEvent,
	type StateStore,
	type Store,
	type StoredSession,
	type StoredState,
	type StoreGetOptions,
	type StoreSetOptions,
	type TokenInfo,
	TokenRefreshError,
	type TokenRefreshFailure,
	type TokenSet,
	type TraceContexts,
	type TraceOperation,
	type TransientErrorKind,
	UnreadableSessionError,
} from '@atcute/oauth-client';
export { DiscoveryError, type DiscoveryErrorCode } from '@atcute/oauth-discovery';
export {
	CLIENT_ASSERTION_TYPE,
	createClientAssertion,
	exportJwkKey,
	exportPkcs8Key,
	InvalidKeyError,
	type InvalidKeyReason,
	type Jwks,
	type KeySearch,
	Keyset,
	NoCompatibleKeyError,
	type PrivateJwk,
	type PrivateKey,
	type PublicJwk,
	type PublishedJwk,
	type SigningAlgorithm,
} from '@atcute/oauth-keys';
export { scope } from '@atcute/oauth-scope';
export {
	EncryptedStore,
	type EncryptStoreOptions,
	encryptStore,
	generateStoreKey,
	parseStoreKeys,
	RewrapAbortedError,
	type RewrapOptions,
	type RewrapReport,
	StoreDecryptionError,
	type StoreDecryptionErrorCode,
	type StoredValue,
	type StoreKey,
} from '@atcute/oauth-store-encrypted';
export {
	compactCodec,
	MemoryStore,
	type MemoryStoreCodec,
	type MemoryStoreOptions,
} from '@atcute/oauth-store-memory';
export {
	type CompositeHandleResolverOptions,
	createCompositeHandleResolver,
} from './create-composite-handle-resolver.ts';
export { createNodeFetch, type NodeFetchOptions } from './create-node-fetch.ts';
export {
	createWellKnownHandleResolver,
	type WellKnownHandleResolverOptions,
} from './create-well-known-handle-resolver.ts';
export type { OAuthClientOptions } from './default-transport.ts';
export { diagnosticsChannelTracer, OAUTH_TRACING_CHANNELS } from './diagnostics.ts';
export { generatePrivateKey, importJwkKey, importPkcs8Key } from './keys.ts';
export {
	type FromNodeSavedSessionOptions,
	fromNodeSavedSession,
	type NodeSavedJwk,
	type NodeSavedSession,
	toNodeSavedSession,
} from './node-saved-session.ts';
export { type FromNodeSavedStateOptions, fromNodeSavedState } from './node-saved-state.ts';
export { createNodeSigner } from './node-signer.ts';
export { OAuthClient } from './oauth-client.ts';
export { type AddressKind, PrivateNetworkError } from './private-network-error.ts';
export { type RuntimeFacts, usesNodeTransport } from './uses-node-transport.ts';
