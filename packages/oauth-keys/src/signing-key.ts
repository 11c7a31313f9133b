import type { EcPrivateJwk, PublicJwk, RsaPrivateJwk } from './jwk.ts';
import type { SigningAlgorithm } from './signing-algorithm.ts';
import type { WebCryptoKey } from './web-crypto-key.ts';

/**
 * signs the JWS signing input and returns the raw JWS signature (for ECDSA, `r || s`).
 * may be synchronous: a runtime-specific signer (node:crypto) is much faster than WebCrypto's.
 */
export type SignFunction = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/**
 * makes a `SignFunction` straight from a private JWK's key parameters in one runtime import,
 * without a WebCrypto key; returns `undefined` when the runtime cannot, and the caller falls
 * back to WebCrypto.
 */
export type SignerFromJwk = (
	params: Readonly<Record<string, unknown>>,
	alg: SigningAlgorithm,
) => SignFunction | undefined;

/**
 * makes a `SignFunction` (ES256K: SHA-256, raw `r || s`) from a secp256k1 private JWK's `kty`,
 * `crv`, `x`, `y` and `d`, for restoring an ES256K DPoP key that another client stored (the
 * official `@atproto/oauth-client-node` prefers them): WebCrypto has no secp256k1, so only a
 * runtime's own crypto signs with one. `undefined` when the runtime cannot; throws an
 * `InvalidKeyError` for a key it refuses, or whose public half is not its own.
 */
export type SignerFromSecp256k1Jwk = (params: Readonly<Record<string, string>>) => SignFunction | undefined;

/** a fresh key pair made in a runtime's own crypto: a signer, and its private JWK to store. */
export interface GeneratedSigner {
	/** signs with the new key (no `cryptoKey`: the key never went through WebCrypto). */
	readonly signer: JwkSigner;
	/** the new key's private parameters, for storage. */
	readonly privateJwk: Readonly<EcPrivateJwk | RsaPrivateJwk>;
}

/**
 * generates a key pair for `alg` in the runtime's own crypto, synchronously; returns `undefined`
 * when it cannot (or should not, as for RSA, whose generation would hold the thread for tens of
 * milliseconds), and the caller generates with WebCrypto instead.
 */
export type SignerGenerate = (alg: SigningAlgorithm) => GeneratedSigner | undefined;

/**
 * builds a `SignFunction` for a private key; the key is converted once, not per signature. it may
 * carry `fromJwk`, a faster way to load a stored key that needs signing only (`importJwkSigner`),
 * and `generate`, a faster way to make a key that needs signing and storing only
 * (`generateDpopKey`).
 */
export type CreateSigner = ((key: WebCryptoKey, alg: SigningAlgorithm) => SignFunction) & {
	/** loads a stored key that needs signing only, without WebCrypto (`importJwkSigner`). */
	readonly fromJwk?: SignerFromJwk | undefined;
	/** makes a key that needs signing and storing only, without WebCrypto (`generateDpopKey`). */
	readonly generate?: SignerGenerate | undefined;
	/** loads a stored secp256k1 (ES256K) key, which WebCrypto cannot (`importDpopKey`). */
	readonly fromSecp256k1Jwk?: SignerFromSecp256k1Jwk | undefined;
};

/** a private key bound to one algorithm, ready to sign. */
export interface SigningKey {
	/** the one algorithm this key signs with. */
	readonly alg: SigningAlgorithm;
	/** the private key, extractable so it can be exported for storage. */
	readonly cryptoKey: WebCryptoKey;
	/** the public half: key parameters only (no `kid`, `alg`, `use`). */
	readonly publicJwk: Readonly<PublicJwk>;
	/** signs with this key; see `SignFunction`. */
	readonly sign: SignFunction;
}

/**
 * a key that signs with one algorithm but need not be exportable: what `importJwkSigner` returns.
 * `cryptoKey` is there when the key went through WebCrypto.
 */
export interface JwkSigner {
	/** the one algorithm this key signs with. */
	readonly alg: SigningAlgorithm;
	/** the private key, when WebCrypto imported it; absent on a runtime's `fromJwk` path. */
	readonly cryptoKey?: WebCryptoKey | undefined;
	/** the public half: key parameters only (no `kid`, `alg`, `use`). */
	readonly publicJwk: Readonly<PublicJwk>;
	/** signs with this key; see `SignFunction`. */
	readonly sign: SignFunction;
}

/** options shared by the functions that generate or import keys. */
export interface SignerOptions {
	/** how signatures are made; defaults to WebCrypto (`createWebCryptoSigner`). */
	createSigner?: CreateSigner | undefined;
}

/** returns a copy of `key` that signs through `createSigner` instead. */
export const withSigner = <K extends SigningKey>(key: K, createSigner: CreateSigner): K => {
	return { ...key, sign: createSigner(key.cryptoKey, key.alg) };
};
