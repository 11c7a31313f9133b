export type { EncryptStoreOptions } from './encrypt-store-options.ts';
export { EncryptedStore, encryptStore, type StoredValue } from './encrypted-store.ts';
export { RewrapAbortedError, StoreDecryptionError, type StoreDecryptionErrorCode } from './errors.ts';
export { generateStoreKey } from './generate-store-key.ts';
export { parseStoreKeys } from './parse-store-keys.ts';
export type { RewrapOptions, RewrapReport } from './rewrap-options.ts';
export type { StoreKey } from './store-key.ts';
