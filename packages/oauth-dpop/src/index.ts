// the types the API above mentions from @atcute/oauth-keys: an app installed by pnpm cannot
// import that package, and a declaration it emits that names one of these types would fail with
// TS2742 ("cannot be named ... not portable") unless this entry exports it
export type {
	CreateSigner,
	EcPrivateJwk,
	EcPublicJwk,
	GeneratedSigner,
	JwkSigner,
	PublicJwk,
	RsaPrivateJwk,
	RsaPublicJwk,
	Sha256Function,
	SignerFromJwk,
	SignerFromSecp256k1Jwk,
	SignerGenerate,
	SignerOptions,
	SignFunction,
	SigningAlgorithm,
	WebCryptoKey,
	WebCryptoKeyShape,
} from '@atcute/oauth-keys';
export { computeAth } from './compute-ath.ts';
export { createDpopFetch, type DpopFetchOptions, type FetchFunction } from './create-dpop-fetch.ts';
export { createDpopProof, type DpopProofOptions, toHtu } from './create-dpop-proof.ts';
export {
	type DpopAlgorithm,
	type DpopKey,
	type DpopPrivateJwk,
	exportDpopKey,
	generateDpopKey,
	importDpopKey,
	type Secp256k1PrivateJwk,
} from './dpop-key.ts';
export {
	type DpopNonceCache,
	MemoryDpopNonceCache,
	type MemoryDpopNonceCacheOptions,
} from './dpop-nonce-cache.ts';
export { isReplayableBody } from './is-replayable-body.ts';
export { isUseDpopNonceError } from './is-use-dpop-nonce-error.ts';
export { type AuthChallenge, parseWwwAuthenticate } from './parse-www-authenticate.ts';
export { ServerClocks, type ServerClocksOptions } from './server-clocks.ts';
