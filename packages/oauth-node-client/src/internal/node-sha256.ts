import { type Sha256Function, sha256Base64url } from '@atcute/oauth-keys';

import { nodeBuiltin } from './node-builtin.ts';

/**
 * base64url SHA-256 through node:crypto, synchronously: each sign-in's PKCE challenge and each
 * restored session's DPoP `ath`. on Node 20 it costs 3.6 µs of CPU against 54 µs for WebCrypto's
 * digest, which runs as a job and answers on a later turn (`pnpm bench keys-dpop`). a runtime
 * whose node:crypto is missing or refuses gets WebCrypto's.
 */
export const nodeSha256: Sha256Function = (text) => {
	try {
		return nodeBuiltin('node:crypto').createHash('sha256').update(text, 'utf8').digest('base64url');
	} catch {
		return sha256Base64url(text);
	}
};
