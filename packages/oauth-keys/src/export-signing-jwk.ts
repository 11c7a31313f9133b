import { checkExportableKey } from './internal/check-exportable-key.ts';
import type { EcPrivateJwk, RsaPrivateJwk } from './jwk.ts';
import type { SigningKey } from './signing-key.ts';

const EC_FIELDS = ['kty', 'crv', 'x', 'y', 'd'] as const;
const RSA_FIELDS = ['kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;

/**
 * exports the private key parameters of a key as a JWK (no `kid`, no `alg`).
 * @throws {TypeError} when `key` is not an imported or generated key (a plain JWK, say)
 */
export const exportSigningJwk = async (key: SigningKey): Promise<EcPrivateJwk | RsaPrivateJwk> => {
	checkExportableKey('exportSigningJwk', 'generateSigningKey/importSigningJwk', key);
	const full = (await globalThis.crypto.subtle.exportKey('jwk', key.cryptoKey)) as Record<string, unknown>;
	const fields = full.kty === 'EC' ? EC_FIELDS : RSA_FIELDS;

	// copy only the key parameters, in a fixed order, so the output is stable across runtimes
	const jwk: Record<string, unknown> = {};
	for (const field of fields) {
		jwk[field] = full[field];
	}
	return jwk as unknown as EcPrivateJwk | RsaPrivateJwk;
};
