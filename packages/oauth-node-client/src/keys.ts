import {
	generatePrivateKey as generateWith,
	type ImportJwkKeyOptions,
	type ImportPkcs8KeyOptions,
	importJwkKey as importJwkWith,
	importPkcs8Key as importPkcs8With,
	type PrivateJwk,
	type PrivateKey,
	type SigningAlgorithm,
} from '@atcute/oauth-keys';

import { createNodeSigner } from './node-signer.ts';

/**
 * generates a new client private key, signing through node:crypto.
 * @param kid the key id to publish it under
 * @param alg the algorithm it signs with; ES256 is the one every atproto server supports
 */
export const generatePrivateKey = (kid: string, alg: SigningAlgorithm = 'ES256'): Promise<PrivateKey> => {
	return generateWith(kid, alg, { createSigner: createNodeSigner });
};

/**
 * imports a client private key from a JWK object or its JSON text (as kept in an environment
 * variable), signing through node:crypto. throws an `InvalidKeyError` naming the problem.
 */
export const importJwkKey = (
	jwk: PrivateJwk | Record<string, unknown> | string,
	options: ImportJwkKeyOptions = {},
): Promise<PrivateKey> => {
	return importJwkWith(jwk, { createSigner: createNodeSigner, ...options });
};

/** imports a client private key from a PKCS#8 PEM, signing through node:crypto. */
export const importPkcs8Key = (pem: string, options: ImportPkcs8KeyOptions): Promise<PrivateKey> => {
	return importPkcs8With(pem, { createSigner: createNodeSigner, ...options });
};
