import { constants, KeyObject, type SignKeyObjectInput, sign } from 'node:crypto';

import { type CreateSigner, createWebCryptoSigner, type SignFunction } from '@atcute/oauth-keys';

/**
 * a signer on node:crypto: a synchronous signature on a `KeyObject` converted once per key.
 * on Node it costs about a third of a WebCrypto signature, which matters because every API call
 * signs a DPoP proof. runtimes whose node:crypto cannot convert the key, or cannot sign with it
 * (Workers with nodejs_compat), fall back to WebCrypto.
 */
export const createNodeSigner: CreateSigner = (key, alg) => {
	let keyObject: KeyObject;
	try {
		keyObject = KeyObject.from(key);
	} catch {
		return createWebCryptoSigner(key, alg);
	}

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

	// a runtime may convert the key and still not sign with it (workerd's nodejs_compat takes no
	// KeyObject in sign's options): the first signature that fails moves this key to WebCrypto
	let fallback: SignFunction | undefined;
	const signer: SignFunction = (data) => {
		if (fallback !== undefined) return fallback(data);
		try {
			return sign(hash, data, options);
		} catch {
			fallback = createWebCryptoSigner(key, alg);
			return fallback(data);
		}
	};
	return signer;
};
