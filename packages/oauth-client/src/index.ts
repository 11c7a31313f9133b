export {
	AuthorizationServerAgent,
	type AuthorizationServerAgentOptions,
	type ParResult,
} from './authorization-server-agent.ts';
export {
	buildClientMetadata,
	buildLoopbackClientMetadata,
	type ClientMetadataInput,
	isLoopbackClientId,
	type OAuthClientMetadata,
} from './client-metadata.ts';
export {
	AuthMethodUnsatisfiableError,
	IdentityMismatchError,
	IdentityResolutionError,
	InvalidResponseError,
	LockTimeoutError,
	OAuthCallbackError,
	OAuthResponseError,
	OAuthTransientError,
	SessionNotFoundError,
	TokenRefreshError,
	type TokenRefreshFailure,
	type TransientErrorKind,
} from './errors.ts';
export { createMemoryLock, type LockFunction, type MemoryLockOptions } from './lock.ts';
export {
	type AuthorizeOptions,
	type AuthorizeResult,
	type AuthorizeTarget,
	type CallbackResult,
	OAuthClient,
	type OAuthClientOptions,
	type OAuthClientStores,
	type RestoreOptions,
} from './oauth-client.ts';
export { OAuthSession, type TokenInfo } from './oauth-session.ts';
export type { Awaitable, Store, StoreGetOptions, StoreSetOptions } from './store.ts';
export type {
	ClientAuthMethod,
	SessionStore,
	StateStore,
	StoredSession,
	StoredState,
	TokenSet,
} from './stored-types.ts';
