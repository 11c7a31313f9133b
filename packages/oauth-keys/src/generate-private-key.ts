import { generateSigningKey } from './generate-signing-key.ts';
import { checkKid, type PrivateKey, toPrivateKey } from './private-key.ts';
import type { SigningAlgorithm } from './signing-algorithm.ts';
import type { SignerOptions } from './signing-key.ts';

/**
 * generates a new client private key.
 * @param kid the key id to publish it under
 * @param alg the algorithm it signs with; ES256 is the one every atproto server supports
 */
export const generatePrivateKey = async (
	kid: string,
	alg: SigningAlgorithm = 'ES256',
	options?: SignerOptions,
): Promise<PrivateKey> => {
	// check the kid before spending time on generation
	checkKid(kid);
	return toPrivateKey(await generateSigningKey(alg, options), kid);
};
