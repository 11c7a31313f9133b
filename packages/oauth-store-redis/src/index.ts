export { DEFAULT_TIMEOUT_MS } from './constants.ts';
export {
	RedisStoreError,
	type RedisStoreErrorCode,
	type StoreOperation,
	StoreUnavailableError,
} from './errors.ts';
export { RedisStore, type RedisStoreOptions } from './redis-store.ts';
