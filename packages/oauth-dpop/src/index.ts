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
