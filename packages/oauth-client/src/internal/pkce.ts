import { randomId, type Sha256Function, sha256Base64url } from '@atcute/oauth-keys';

/** a PKCE pair: the verifier stays in our state store, the challenge goes in the PAR request. */
export interface Pkce {
	verifier: string;
	challenge: string;
	method: 'S256';
}

/**
 * makes a PKCE verifier and its S256 challenge. atproto requires S256; `plain` is never used.
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.1
 * @see https://atproto.com/specs/oauth#authorization-requests
 */
export const createPkce = async (sha256: Sha256Function = sha256Base64url): Promise<Pkce> => {
	// 32 random bytes: a 43-character verifier, the RFC 7636 minimum length, full entropy
	const verifier = randomId(32);
	return { verifier, challenge: await sha256(verifier), method: 'S256' };
};
