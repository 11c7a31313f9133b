import { encodeBase64url } from './internal/base64url.ts';
import { keyIdProblem } from './internal/key-id.ts';
import type { StoreKey } from './store-key.ts';

/**
 * a new key for an encrypted store: 32 bytes from the runtime's CSPRNG, as base64url.
 * @throws {TypeError} when the key ring would refuse `id` (its characters, or shaped like a secret)
 */
export const generateStoreKey = (id: string): StoreKey => {
	const problem = keyIdProblem(id, 'id');
	if (problem !== undefined) throw new TypeError(problem);
	return { id, secret: encodeBase64url(crypto.getRandomValues(new Uint8Array(32))) };
};
