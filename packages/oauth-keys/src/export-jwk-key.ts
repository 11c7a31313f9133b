import { exportSigningJwk } from './export-signing-jwk.ts';
import { checkExportableKey } from './internal/check-exportable-key.ts';
import type { PrivateJwk } from './jwk.ts';
import type { PrivateKey } from './private-key.ts';

/**
 * exports a client private key as a JWK with its `kid` and `alg`, ready for `JSON.stringify` and
 * for `importJwkKey` later. the result holds the private key: keep it secret.
 * @throws {TypeError} when `key` is not a key from `importJwkKey`, `generatePrivateKey` or
 * `importPkcs8Key` (a plain JWK, say)
 */
export const exportJwkKey = async (key: PrivateKey): Promise<PrivateJwk> => {
	checkExportableKey('exportJwkKey', 'importJwkKey/generatePrivateKey/importPkcs8Key', key);
	const jwk = await exportSigningJwk(key);
	return { kid: key.kid, alg: key.alg, ...jwk } as PrivateJwk;
};
