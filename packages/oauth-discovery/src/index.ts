export {
	AUTHORIZATION_SERVER_METADATA_MAX_BYTES,
	AUTHORIZATION_SERVER_METADATA_PATH,
	DEFAULT_CACHE_TTL_MS,
	DEFAULT_MEMORY_CACHE_MAX_SIZE,
	DEFAULT_TIMEOUT_MS,
	PROTECTED_RESOURCE_METADATA_MAX_BYTES,
	PROTECTED_RESOURCE_METADATA_PATH,
} from './constants.ts';
export { DiscoveryError, type DiscoveryErrorCode, type DiscoveryErrorOptions } from './discovery-error.ts';
export {
	type FetchFunction,
	type FetchJsonDocumentOptions,
	fetchJsonDocument,
} from './fetch-json-document.ts';
export {
	type Awaitable,
	MemoryMetadataCache,
	type MemoryMetadataCacheOptions,
	type MetadataCache,
	type MetadataCacheEntry,
	type MetadataCacheSetOptions,
} from './metadata-cache.ts';
export {
	OAuthDiscovery,
	type OAuthDiscoveryCaches,
	type OAuthDiscoveryOptions,
	type PdsDiscovery,
	type ResolveOptions,
	type ServiceDiscovery,
} from './oauth-discovery.ts';
export {
	type AuthorizationServerMetadata,
	assertProtectsResource,
	type ValidateAuthorizationServerMetadataOptions,
	validateAuthorizationServerMetadata,
} from './validate-authorization-server-metadata.ts';
export {
	type ProtectedResourceMetadata,
	type ValidateProtectedResourceMetadataOptions,
	validateProtectedResourceMetadata,
} from './validate-protected-resource-metadata.ts';
