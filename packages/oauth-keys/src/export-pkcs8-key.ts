import { exportPKCS8 } from 'jose/key/export';

import type { SigningKey } from './signing-key.ts';

/** exports a private key as a PKCS#8 PEM. the result holds the private key: keep it secret. */
export const exportPkcs8Key = async (key: SigningKey): Promise<string> => {
	return exportPKCS8(key.cryptoKey);
};
