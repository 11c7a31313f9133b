export {
	EncryptedStore,
	type EncryptStoreOptions,
	encryptStore,
	type RewrapOptions,
	type RewrapReport,
	type StoredValue,
} from './encrypted-store.ts';
export { StoreDecryptionError, type StoreDecryptionErrorCode } from './errors.ts';
export { generateStoreKey } from './generate-store-key.ts';
export { parseStoreKeys } from './parse-store-keys.ts';
export type { StoreKey } from './store-key.ts';
