export {
	CLIENT_ASSERTION_TYPE,
	type ClientAssertionOptions,
	createClientAssertion,
} from './create-client-assertion.ts';
export { InvalidKeyError, type InvalidKeyReason, NoCompatibleKeyError } from './errors.ts';
export { exportJwkKey } from './export-jwk-key.ts';
export { exportPkcs8Key } from './export-pkcs8-key.ts';
export { exportSigningJwk } from './export-signing-jwk.ts';
export { generatePrivateKey } from './generate-private-key.ts';
export { generateSigningKey } from './generate-signing-key.ts';
export { type ImportJwkKeyOptions, importJwkKey } from './import-jwk-key.ts';
export { importJwkSigner } from './import-jwk-signer.ts';
export { type ImportPkcs8KeyOptions, importPkcs8Key } from './import-pkcs8-key.ts';
export { type ImportSigningJwkOptions, importSigningJwk } from './import-signing-jwk.ts';
export { publicJwkOf } from './internal/public-jwk-of.ts';
export type {
	EcPrivateJwk,
	EcPublicJwk,
	Jwks,
	PrivateJwk,
	PublicJwk,
	PublishedJwk,
	RsaPrivateJwk,
	RsaPublicJwk,
} from './jwk.ts';
export { encodeJwtSegment, signJwt } from './jwt.ts';
export { type KeySearch, Keyset } from './keyset.ts';
export { negotiateAlgorithm } from './negotiate-algorithm.ts';
export type { PrivateKey } from './private-key.ts';
export { randomId } from './random-id.ts';
export { type Sha256Function, sha256Base64url } from './sha256.ts';
export { isSigningAlgorithm, SIGNING_ALGORITHMS, type SigningAlgorithm } from './signing-algorithm.ts';
export {
	type CreateSigner,
	type GeneratedSigner,
	type JwkSigner,
	type SignerFromJwk,
	type SignerFromSecp256k1Jwk,
	type SignerGenerate,
	type SignerOptions,
	type SignFunction,
	type SigningKey,
	withSigner,
} from './signing-key.ts';
export type { WebCryptoKey, WebCryptoKeyShape } from './web-crypto-key.ts';
export { createWebCryptoSigner } from './webcrypto-signer.ts';
