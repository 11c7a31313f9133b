/**
 * one key of an encrypted store's key ring. the secret is the base64url text (no padding, 43
 * characters) of 32 random bytes: an AES-256 key. keep it in a secret manager or an environment
 * variable, never in the store it protects.
 */
export interface StoreKey {
	/**
	 * names the key in every entry it encrypts, so any key of the ring can find its entries: 1 to
	 * 64 characters of `A-Z a-z 0-9 . _ -`. not secret; never reuse an id for another secret.
	 */
	id: string;
	/** the key: base64url of 32 random bytes (`generateStoreKey()` or the CLI makes one). */
	secret: string;
}
