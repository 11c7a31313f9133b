import { base64url } from 'jose';

/**
 * a random identifier (JWT `jti`, OAuth `state`, PKCE verifier) from the platform CSPRNG,
 * base64url-encoded. 16 bytes (128 bits) by default: unguessable and collision-free.
 */
export const randomId = (byteLength = 16): string => {
	return base64url.encode(globalThis.crypto.getRandomValues(new Uint8Array(byteLength)));
};
