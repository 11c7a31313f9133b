import { constants, createPrivateKey, KeyObject, type SignKeyObjectInput, sign } from 'node:crypto';

import {
	type CreateSigner,
	createWebCryptoSigner,
	type SignerFromJwk,
	type SignFunction,
	type SigningAlgorithm,
} from '@atcute/oauth-keys';

/** a synchronous node:crypto signature for `alg` on a converted key. */
const signerFor = (keyObject: KeyObject, alg: SigningAlgorithm): SignFunction => {
	const bits = Number(alg.slice(2));
	const hash = `sha${bits}`;
	const options: SignKeyObjectInput =
		alg[0] === 'E'
			? // JWS wants the raw r || s form, not DER
				{ key: keyObject, dsaEncoding: 'ieee-p1363' }
			: alg[0] === 'P'
				? // RFC 7518 §3.5: salt as long as the hash
					{ key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 }
				: { key: keyObject, padding: constants.RSA_PKCS1_PADDING };

	return (data) => sign(hash, data, options);
};

/**
 * loads a stored private JWK straight into node:crypto: one import (about a third of WebCrypto's,
 * which also re-checks the key), used when a session's DPoP key is restored. `undefined` when
 * node:crypto refuses the key; the caller then tries WebCrypto, which reports it.
 */
const fromJwk: SignerFromJwk = (params, alg) => {
	let keyObject: KeyObject;
	try {
		keyObject = createPrivateKey({ key: params as never, format: 'jwk' });
	} catch {
		return undefined;
	}
	return keyObject.asymmetricKeyType === (alg[0] === 'E' ? 'ec' : 'rsa')
		? signerFor(keyObject, alg)
		: undefined;
};

/**
 * a signer on node:crypto: a synchronous signature on a `KeyObject` converted once per key.
 * on Node it costs about a third of a WebCrypto signature, which matters because every API call
 * signs a DPoP proof. runtimes whose node:crypto cannot convert the key fall back to WebCrypto.
 */
export const createNodeSigner: CreateSigner = Object.assign(
	(key: CryptoKey, alg: SigningAlgorithm): SignFunction => {
		let keyObject: KeyObject;
		try {
			keyObject = KeyObject.from(key);
		} catch {
			return createWebCryptoSigner(key, alg);
		}
		return signerFor(keyObject, alg);
	},
	{ fromJwk },
);
