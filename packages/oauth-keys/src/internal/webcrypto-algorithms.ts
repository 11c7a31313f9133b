import type { SigningAlgorithm } from '../signing-algorithm.ts';

type EcCurve = 'P-256' | 'P-384' | 'P-521';

/** the curve each ECDSA algorithm is defined over (RFC 7518 §3.4). */
export const EC_CURVE_BY_ALG: Readonly<Partial<Record<SigningAlgorithm, EcCurve>>> = {
	ES256: 'P-256',
	ES384: 'P-384',
	ES512: 'P-521',
};

/**
 * the ECDSA algorithm each curve implies, for JWKs that carry no `alg`. a Map, not an object: a
 * `crv` such as "constructor" or "__proto__" must find nothing, not an inherited property.
 */
export const ALG_BY_EC_CURVE: ReadonlyMap<unknown, SigningAlgorithm> = new Map([
	['P-256', 'ES256'],
	['P-384', 'ES384'],
	['P-521', 'ES512'],
]);

/** the key type an algorithm needs. */
export const keyTypeOf = (alg: SigningAlgorithm): 'EC' | 'RSA' => (alg[0] === 'E' ? 'EC' : 'RSA');

/** the WebCrypto parameters for `subtle.sign` / `subtle.verify` with each algorithm. */
export const signParamsOf = (alg: SigningAlgorithm): AlgorithmIdentifier | EcdsaParams | RsaPssParams => {
	const bits = alg.slice(2);
	switch (alg[0]) {
		case 'E':
			return { name: 'ECDSA', hash: `SHA-${bits}` };
		case 'P':
			// RFC 7518 §3.5: the salt is as long as the hash output
			return { name: 'RSA-PSS', saltLength: Number(bits) / 8 };
		default:
			return { name: 'RSASSA-PKCS1-v1_5' };
	}
};

/** the WebCrypto parameters to import or generate a key for each algorithm. */
export const keyParamsOf = (alg: SigningAlgorithm): EcKeyImportParams | RsaHashedImportParams => {
	switch (alg[0]) {
		case 'E':
			return { name: 'ECDSA', namedCurve: EC_CURVE_BY_ALG[alg]! };
		case 'P':
			return { name: 'RSA-PSS', hash: `SHA-${alg.slice(2)}` };
		default:
			return { name: 'RSASSA-PKCS1-v1_5', hash: `SHA-${alg.slice(2)}` };
	}
};

/**
 * whether a WebCrypto key's algorithm is the one `alg` signs with: the same name, and the same
 * hash (RSA) or curve (EC). an RSA key imported for RS256 cannot sign PS256 or RS512.
 */
export const keyAlgorithmFits = (algorithm: KeyAlgorithm, alg: SigningAlgorithm): boolean => {
	const wanted = keyParamsOf(alg);
	if (algorithm.name !== wanted.name) return false;
	return 'namedCurve' in wanted
		? (algorithm as Partial<EcKeyAlgorithm>).namedCurve === wanted.namedCurve
		: (algorithm as Partial<RsaHashedKeyAlgorithm>).hash?.name === wanted.hash;
};

/** a WebCrypto key's algorithm in words, such as "RSASSA-PKCS1-v1_5 with SHA-256" or "ECDSA P-384". */
export const describeKeyAlgorithm = (algorithm: KeyAlgorithm): string => {
	const { namedCurve } = algorithm as Partial<EcKeyAlgorithm>;
	const hash = (algorithm as Partial<RsaHashedKeyAlgorithm>).hash?.name;
	return `${String(algorithm.name)}${namedCurve !== undefined ? ` ${String(namedCurve)}` : ''}${hash !== undefined ? ` with ${String(hash)}` : ''}`;
};
