import type { StoreKey } from './store-key.ts';

/** options for `encryptStore`. */
export interface EncryptStoreOptions {
	/**
	 * the key ring: at least one key; the first encrypts every write, every key listed decrypts.
	 * ids must differ. a bad key throws a `TypeError` that names its position, never its value.
	 */
	keys: readonly StoreKey[];
	/**
	 * migration only: read entries written before encryption was turned on (as they are; each is
	 * encrypted on its next write or by `rewrap`). default `false`: such an entry is a
	 * `StoreDecryptionError` with code `plaintext`.
	 * > [!WARNING] while on, whoever can write to the store can plant a session that is read as
	 * > genuine. turn it off once `rewrap` reports no plaintext entries.
	 */
	allowPlaintext?: boolean | undefined;
	/**
	 * how many decrypted entries to keep in memory, so reading an entry that has not changed since
	 * costs no decryption: a non-negative integer, default 1000; 0 turns the cache off. a cached
	 * entry is used only while the store holds the very same ciphertext.
	 */
	cacheSize?: number | undefined;
}
