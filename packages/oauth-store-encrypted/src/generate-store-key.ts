import { encodeBase64url } from './internal/base64url.ts';
import type { StoreKey } from './store-key.ts';

/** a new key for an encrypted store: 32 bytes from the runtime's CSPRNG, as base64url. */
export const generateStoreKey = (id: string): StoreKey => {
	if (typeof id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
		throw new TypeError('id must be 1 to 64 characters of A-Z a-z 0-9 . _ -');
	}
	return { id, secret: encodeBase64url(crypto.getRandomValues(new Uint8Array(32))) };
};
