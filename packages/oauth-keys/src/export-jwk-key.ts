import { exportSigningJwk } from './export-signing-jwk.ts';
import type { PrivateJwk } from './jwk.ts';
import type { PrivateKey } from './private-key.ts';

/**
 * exports a client private key as a JWK with its `kid` and `alg`, ready for `JSON.stringify` and
 * for `importJwkKey` later. the result holds the private key: keep it secret.
 */
export const exportJwkKey = async (key: PrivateKey): Promise<PrivateJwk> => {
	const jwk = await exportSigningJwk(key);
	return { kid: key.kid, alg: key.alg, ...jwk } as PrivateJwk;
};
