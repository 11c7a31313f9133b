import { base64Encode } from './internal/base64url.ts';
import { checkExportableKey } from './internal/check-exportable-key.ts';
import type { SigningKey } from './signing-key.ts';

/**
 * exports a private key as a PKCS#8 PEM. the result holds the private key: keep it secret.
 * @throws {TypeError} when `key` is not an imported or generated key (a plain JWK, say)
 */
export const exportPkcs8Key = async (key: SigningKey): Promise<string> => {
	checkExportableKey('exportPkcs8Key', 'importJwkKey/generatePrivateKey/importPkcs8Key', key);
	const der = new Uint8Array(await globalThis.crypto.subtle.exportKey('pkcs8', key.cryptoKey));
	// RFC 7468: base64 lines of 64 characters between the labels
	const lines = base64Encode(der).match(/.{1,64}/g) ?? [];
	return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----`;
};
