export {
	AuthMethodUnsatisfiableError,
	type AuthorizeOptions,
	type AuthorizeResult,
	type AuthorizeTarget,
	type Awaitable,
	buildClientMetadata,
	buildLoopbackClientMetadata,
	type CallbackResult,
	type ClientAuthMethod,
	type ClientMetadataInput,
	createMemoryLock,
	IdentityMismatchError,
	IdentityResolutionError,
	InvalidResponseError,
	type LockFunction,
	LockTimeoutError,
	type MemoryLockOptions,
	OAuthCallbackError,
	type OAuthClientMetadata,
	type OAuthClientStores,
	OAuthResponseError,
	OAuthSession,
	OAuthTransientError,
	type RestoreOptions,
	SessionNotFoundError,
	type SessionStore,
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
	type TransientErrorKind,
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
export { MemoryStore, type MemoryStoreOptions } from '@atcute/oauth-store-memory';

export { createNodeFetch, type NodeFetchOptions } from './create-node-fetch.ts';
export type { OAuthClientOptions } from './default-transport.ts';
export { generatePrivateKey, importJwkKey, importPkcs8Key } from './keys.ts';
export { createNodeSigner } from './node-signer.ts';
export { OAuthClient } from './oauth-client.ts';
export { type AddressKind, PrivateNetworkError } from './private-network-error.ts';
export { type RuntimeFacts, usesNodeTransport } from './uses-node-transport.ts';
