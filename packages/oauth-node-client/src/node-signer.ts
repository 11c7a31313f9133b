import type { KeyObject, SignKeyObjectInput } from 'node:crypto';

import {
	type CreateSigner,
	createWebCryptoSigner,
	type EcPrivateJwk,
	InvalidKeyError,
	type SignerFromJwk,
	type SignerFromSecp256k1Jwk,
	type SignerGenerate,
	type SignFunction,
	type SigningAlgorithm,
} from '@atcute/oauth-keys';

import { nodeBuiltin } from './internal/node-builtin.ts';
import { toLowS } from './internal/to-low-s.ts';

/**
 * whether this runtime's node:crypto signs with a converted key: a runtime may convert the key
 * and still refuse to sign with it (workerd's nodejs_compat takes no `KeyObject` in `sign`'s
 * options). learnt from the first signature, then fixed for the process.
 */
let nodeSigns: boolean | undefined;

/** a synchronous node:crypto signature for `alg` on a converted key. */
const signOptions = (keyObject: KeyObject, alg: SigningAlgorithm): SignKeyObjectInput => {
	const { constants } = nodeBuiltin('node:crypto');
	const bits = Number(alg.slice(2));
	return alg[0] === 'E'
		? // JWS wants the raw r || s form, not DER
			{ key: keyObject, dsaEncoding: 'ieee-p1363' }
		: alg[0] === 'P'
			? // RFC 7518 §3.5: salt as long as the hash
				{ key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 }
			: { key: keyObject, padding: constants.RSA_PKCS1_PADDING };
};

/** signs once with `options`, recording whether node:crypto can sign here at all. */
const probe = (hash: string, options: SignKeyObjectInput): boolean => {
	if (nodeSigns === undefined) {
		try {
			nodeBuiltin('node:crypto').sign(hash, new Uint8Array(0), options);
			nodeSigns = true;
		} catch {
			nodeSigns = false;
		}
	}
	return nodeSigns;
};

/**
 * a synchronous node:crypto `SignFunction` for `alg` on a converted key, or `undefined` when
 * node:crypto cannot sign here (learnt once per process, by `probe`).
 */
const signerFor = (keyObject: KeyObject, alg: SigningAlgorithm): SignFunction | undefined => {
	const hash = `sha${alg.slice(2)}`;
	const options = signOptions(keyObject, alg);
	if (!probe(hash, options)) return undefined;
	const { sign } = nodeBuiltin('node:crypto');
	return (data) => sign(hash, data, options);
};

/**
 * loads a stored private JWK straight into node:crypto: one import (about a third of WebCrypto's,
 * which also re-checks the key), used when a session's DPoP key is restored. `undefined` when
 * node:crypto refuses the key or cannot sign here; the caller then imports it with WebCrypto,
 * which reports a bad key.
 */
const fromJwk: SignerFromJwk = (params, alg) => {
	let keyObject: KeyObject;
	try {
		// node:crypto is loaded here, at the first key, not at import (see nodeBuiltin)
		keyObject = nodeBuiltin('node:crypto').createPrivateKey({ key: params as never, format: 'jwk' });
	} catch {
		return undefined;
	}
	return keyObject.asymmetricKeyType === (alg[0] === 'E' ? 'ec' : 'rsa')
		? signerFor(keyObject, alg)
		: undefined;
};

/**
 * loads a secp256k1 private JWK into node:crypto for ES256K (RFC 8812 §3.2): the DPoP keys
 * `@atproto/oauth-client-node` made, which WebCrypto cannot import. `undefined` where node:crypto
 * has no secp256k1 or cannot sign with it.
 */
const fromSecp256k1Jwk: SignerFromSecp256k1Jwk = (params) => {
	let crypto: ReturnType<typeof nodeBuiltin<'node:crypto'>>;
	let hasCurve: boolean;
	try {
		// inside the try: a runtime without process.getBuiltinModule (workerd's nodejs_compat
		// at compatibility date 2024-09-01, say) has no node:crypto to load here: "cannot sign", not a crash
		crypto = nodeBuiltin('node:crypto');
		hasCurve = crypto.getCurves().includes('secp256k1');
	} catch {
		return undefined;
	}
	// Bun's crypto (BoringSSL) has no secp256k1
	if (!hasCurve) return undefined;
	const mismatch = () =>
		new InvalidKeyError(
			'key_mismatch',
			'the JWK private key does not match its public parameters ("d" is not the private key of "x" and "y")',
		);
	let publicKey: KeyObject;
	try {
		publicKey = crypto.createPublicKey({
			key: { kty: 'EC', crv: 'secp256k1', x: params.x, y: params.y } as never,
			format: 'jwk',
		});
	} catch {
		throw new InvalidKeyError('invalid_key', 'the JWK\'s "x" and "y" are not a point on secp256k1');
	}
	let keyObject: KeyObject;
	try {
		keyObject = crypto.createPrivateKey({ key: { ...params } as never, format: 'jwk' });
	} catch {
		// its public half is a point on the curve: the private half is not its key (Node 22 and
		// later, and Deno, check the pair at import), or no key at all
		throw mismatch();
	}
	const options: SignKeyObjectInput = { key: keyObject, dsaEncoding: 'ieee-p1363' };
	const probe = new Uint8Array(1);
	let signature: Uint8Array;
	try {
		signature = crypto.sign('sha256', probe, options);
	} catch {
		return undefined;
	}
	// Node 20 takes a JWK whose x and y are another key's and signs with d: every proof would then
	// fail at the server, which verifies with the x and y in its header. checked once, here
	if (!crypto.verify('sha256', probe, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) {
		throw mismatch();
	}
	// the low form of each signature, which strict verifiers require and lax ones take
	return (data) => toLowS(crypto.sign('sha256', data, options));
};

/** the curve of each ECDSA algorithm (RFC 7518 §3.4). */
const CURVES: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/**
 * `generateKeyPairSync` asked for JWK encodings, which Node has taken since 15.12 and its types
 * do not describe.
 */
type GenerateEcJwkPair = (
	type: 'ec',
	options: {
		namedCurve: string;
		publicKeyEncoding: { format: 'jwk' };
		privateKeyEncoding: { format: 'jwk' };
	},
) => { privateKey: EcPrivateJwk };

/**
 * makes a DPoP key pair in node:crypto, with no thread-pool round trip. ECDSA only: RSA
 * generation takes tens of milliseconds, which node:crypto's synchronous call would hold the event
 * loop for, so WebCrypto (off-thread) makes those. `undefined` where node:crypto cannot make the
 * key or sign with it.
 */
const generate: SignerGenerate = (alg) => {
	const namedCurve = CURVES[alg];
	if (namedCurve === undefined) return undefined;
	let keyObject: KeyObject;
	let privateJwk: EcPrivateJwk;
	try {
		const crypto = nodeBuiltin('node:crypto');
		// the JWK comes out of the generation itself, and the signing key is imported from it. on
		// Node 20, exporting the KeyObject that generateKeyPairSync returned deadlocks the process
		// now and then (a garbage collection during the export runs the finished generation job's
		// destructor, which waits for the lock the export holds): one in 12,000-55,000 keys, a
		// server frozen for good after so many sign-ins. Node 22 does not
		const generateJwkPair = crypto.generateKeyPairSync as unknown as GenerateEcJwkPair;
		const generated = generateJwkPair('ec', {
			namedCurve,
			publicKeyEncoding: { format: 'jwk' },
			privateKeyEncoding: { format: 'jwk' },
		});
		const { kty, crv, x, y, d } = generated.privateKey;
		privateJwk = { kty, crv, x, y, d };
		keyObject = crypto.createPrivateKey({ key: { ...privateJwk }, format: 'jwk' });
	} catch {
		return undefined;
	}
	const sign = signerFor(keyObject, alg);
	if (sign === undefined) return undefined;
	const { kty, crv, x, y } = privateJwk;
	return { signer: Object.freeze({ alg, publicJwk: Object.freeze({ kty, crv, x, y }), sign }), privateJwk };
};

/**
 * a signer on node:crypto: a synchronous signature on a `KeyObject` converted once per key.
 * on Node it costs about a third of a WebCrypto signature, which matters because every API call
 * signs a DPoP proof. runtimes whose node:crypto cannot convert the key, or cannot sign with it
 * (Workers with nodejs_compat), fall back to WebCrypto.
 */
export const createNodeSigner: CreateSigner = Object.assign(
	(key: CryptoKey, alg: SigningAlgorithm): SignFunction => {
		let keyObject: KeyObject;
		try {
			// node:crypto is loaded here, at the first key, not at import (see nodeBuiltin)
			keyObject = nodeBuiltin('node:crypto').KeyObject.from(key);
		} catch {
			return createWebCryptoSigner(key, alg);
		}
		// a key that cannot sign (a public one) says nothing about the runtime: left to WebCrypto,
		// which refuses it at its first signature, it cannot make the probe turn node:crypto off
		if (keyObject.type !== 'private') return createWebCryptoSigner(key, alg);
		return signerFor(keyObject, alg) ?? createWebCryptoSigner(key, alg);
	},
	{ fromJwk, generate, fromSecp256k1Jwk },
);
