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
 * the caller's options with node:crypto signing added; anything that is not an options object
 * is passed on as it is, so the import's own check names it (a string spread would become
 * `{ 0: 'k', 1: '1' }`, and the message would speak of a missing kid).
 */
const withNodeSigner = <T extends object>(options: T | undefined): T | undefined =>
	options === undefined || (typeof options === 'object' && options !== null)
		? // `createSigner: undefined` given is no signer given, as elsewhere in the facade
			({
				...options,
				createSigner: (options as { createSigner?: unknown } | undefined)?.createSigner ?? createNodeSigner,
			} as T)
		: options;

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
	options?: ImportJwkKeyOptions,
): Promise<PrivateKey> => {
	return importJwkWith(jwk, withNodeSigner(options));
};

/** imports a client private key from a PKCS#8 PEM, signing through node:crypto. */
export const importPkcs8Key = (pem: string, options: ImportPkcs8KeyOptions): Promise<PrivateKey> => {
	return importPkcs8With(pem, withNodeSigner(options) as ImportPkcs8KeyOptions);
};
