import {
	type EcPrivateJwk,
	exportSigningJwk,
	generateSigningKey,
	InvalidKeyError,
	importJwkSigner,
	type JwkSigner,
	negotiateAlgorithm,
	type PublicJwk,
	type RsaPrivateJwk,
	SIGNING_ALGORITHMS,
	type SignerOptions,
	type SigningAlgorithm,
} from '@atcute/oauth-keys';

import { importSecp256k1DpopKey, type Secp256k1PrivateJwk } from './internal/import-secp256k1-dpop-key.ts';

export type { Secp256k1PrivateJwk };

/**
 * the algorithm a DPoP key signs with: one this library generates, or ES256K, which only a key
 * restored from another client's session uses (see `importDpopKey`).
 */
export type DpopAlgorithm = SigningAlgorithm | 'ES256K';

/**
 * a DPoP key: one per session, bound to one algorithm. `cryptoKey` is there on a generated key;
 * a restored one may sign through the runtime's own key (node:crypto) instead.
 */
export type DpopKey = Omit<JwkSigner, 'alg' | 'publicJwk'> & {
	/** the one algorithm this key signs with. */
	readonly alg: DpopAlgorithm;
	/** the public half: key parameters only (no `kid`, `alg`, `use`). */
	readonly publicJwk: Readonly<PublicJwk | Omit<Secp256k1PrivateJwk, 'd' | 'alg'>>;
};

// the stored JWK of each restored key, so it can be exported again without a WebCrypto key
const storedJwks = new WeakMap<DpopKey, DpopPrivateJwk>();

/**
 * a DPoP private key as stored with a session: key parameters plus `alg`, the algorithm the key
 * signs its proofs with, one for its whole life (RFC 7517 §4.4). ES256K keys come only from
 * sessions moved from `@atproto/oauth-client-node`.
 */
export type DpopPrivateJwk =
	| ((EcPrivateJwk | RsaPrivateJwk) & {
			/** the algorithm the key signs its proofs with. */
			alg: SigningAlgorithm;
	  })
	| Secp256k1PrivateJwk;

/**
 * generates a fresh DPoP key, with the most preferred algorithm (ES256 first) that the server
 * lists in `dpop_signing_alg_values_supported` (ES256 when the server gives no list).
 * @throws {NoCompatibleKeyError} when the server accepts none of our algorithms
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5.1
 */
export const generateDpopKey = async (
	supported?: readonly string[],
	options?: SignerOptions,
): Promise<JwkSigner> => {
	const alg = negotiateAlgorithm(SIGNING_ALGORITHMS, supported, 'DPoP proofs');
	// the runtime's own generator (node:crypto) where there is one: no WebCrypto key, no thread
	// pool round trip, and the private JWK comes with it, so exporting it later costs nothing
	const generated = options?.createSigner?.generate?.(alg);
	if (generated !== undefined) {
		const { signer, privateJwk } = generated;
		// a key stored with public parameters not its own would make every later proof
		// unverifiable: checked here, once, as exportDpopKey checks a WebCrypto key
		checkPair(signer.publicJwk, privateJwk);
		if (signer.alg !== alg) {
			throw new InvalidKeyError(
				'key_mismatch',
				`the generated DPoP key signs with ${signer.alg}, not ${alg}`,
			);
		}
		storedJwks.set(signer, { ...privateJwk, alg });
		return signer;
	}
	return generateSigningKey(alg, options);
};

/** throws `key_mismatch` unless `jwk` (a private JWK) carries exactly the public parameters `pub`. */
const checkPair = (pub: Readonly<Record<string, unknown>>, jwk: Readonly<Record<string, unknown>>): void => {
	const fields = pub.kty === 'EC' ? ['crv', 'x', 'y'] : ['n', 'e'];
	if (jwk.kty !== pub.kty || fields.some((field) => jwk[field] !== pub[field])) {
		throw new InvalidKeyError('key_mismatch', 'the exported DPoP key does not match its public parameters');
	}
};

/**
 * exports a DPoP key for storage with its session. the result holds the private key. this is
 * where a key's pair is checked, once: the stored public parameters must be the key's own.
 * @throws {InvalidKeyError} `key_mismatch` when they are not
 */
export const exportDpopKey = async (key: DpopKey): Promise<DpopPrivateJwk> => {
	const stored = storedJwks.get(key);
	if (stored !== undefined) return { ...stored };
	if (key.cryptoKey === undefined || key.alg === 'ES256K') {
		throw new InvalidKeyError(
			'invalid_key',
			'this DPoP key was not made by generateDpopKey or importDpopKey',
		);
	}

	const jwk = {
		...(await exportSigningJwk({
			...key,
			alg: key.alg,
			cryptoKey: key.cryptoKey,
			publicJwk: key.publicJwk as PublicJwk,
		})),
		alg: key.alg,
	};
	// importDpopKey trusts the stored pair (one import, no probe), so a stored key must carry the
	// public half the key really has: a mismatch here would make every later proof unverifiable
	checkPair(key.publicJwk as Record<string, unknown>, jwk as Record<string, unknown>);
	return jwk;
};

/**
 * imports a DPoP key written by `exportDpopKey`, in one import (node:crypto's when the signer has
 * `fromJwk`) and without a sign-and-verify probe: the pair was checked when it was exported, and
 * a pair that does not match fails closed, as the server verifies each proof with its public key.
 * an ES256K key (from a session `@atproto/oauth-client-node` stored) needs the signer's
 * `fromSecp256k1Jwk`, which checks its pair: WebCrypto cannot sign with it.
 * @throws {InvalidKeyError} for a key that cannot be used, naming what is wrong
 */
export const importDpopKey = async (jwk: DpopPrivateJwk, options?: SignerOptions): Promise<DpopKey> => {
	const key =
		jwk.alg === 'ES256K'
			? importSecp256k1DpopKey(jwk, options)
			: await importJwkSigner(jwk, { ...options, alg: jwk.alg });
	storedJwks.set(key, { ...jwk });
	return key;
};
