import { InvalidKeyError } from './errors.ts';
import { base64Decode } from './internal/base64url.ts';
import { publicJwkOf } from './internal/public-jwk-of.ts';
import { checkSigningAlgorithm, resolveJwkAlgorithm } from './internal/resolve-jwk-algorithm.ts';
import { keyParamsOf } from './internal/webcrypto-algorithms.ts';
import { checkKid, type PrivateKey, toPrivateKey } from './private-key.ts';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './signing-algorithm.ts';
import type { SignerOptions } from './signing-key.ts';
import { createWebCryptoSigner } from './webcrypto-signer.ts';

/** options for `importPkcs8Key`. */
export interface ImportPkcs8KeyOptions extends SignerOptions {
	/** the key id to publish the key under (required: PEM carries none). */
	kid: string;
	/** the algorithm the key signs with; defaults to ES256. */
	alg?: SigningAlgorithm | undefined;
}

const PKCS8_HEADER = '-----BEGIN PRIVATE KEY-----';
const PKCS8_FOOTER = '-----END PRIVATE KEY-----';

/** the DER bytes between a PKCS#8 PEM's labels (RFC 7468); throws when they are not base64. */
const derOf = (text: string): Uint8Array<ArrayBuffer> => {
	const end = text.indexOf(PKCS8_FOOTER);
	if (end === -1) throw new TypeError('no PEM footer');
	return base64Decode(text.slice(PKCS8_HEADER.length, end).replace(/\s+/g, ''));
};

const importDer = (der: Uint8Array<ArrayBuffer>, alg: SigningAlgorithm, extractable: boolean) =>
	globalThis.crypto.subtle.importKey('pkcs8', der, keyParamsOf(alg), extractable, ['sign']);

/**
 * imports a client private key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). `options.kid`
 * is required: a PEM carries no key id.
 */
export const importPkcs8Key = async (pem: string, options: ImportPkcs8KeyOptions): Promise<PrivateKey> => {
	if (typeof pem !== 'string') {
		throw new InvalidKeyError('not_an_object', `expected a PKCS#8 PEM string, got ${typeof pem}`);
	}
	if (typeof options !== 'object' || options === null || options.kid === undefined) {
		// left out, the options are missing_kid too: what is missing is the kid
		const got =
			options === null ? 'null' : typeof options === 'object' ? 'options without one' : typeof options;
		throw new InvalidKeyError(
			'missing_kid',
			`importPkcs8Key needs options with a "kid" (a PEM carries no key id): { kid, alg? }, got ${got}`,
		);
	}
	const kid = options.kid;
	checkKid(kid);
	// as generatePrivateKey and importJwkKey do: an unsupported alg is unsupported_alg, not a key
	// that fails to import for it (alg_mismatch)
	const alg = options.alg ?? 'ES256';
	checkSigningAlgorithm(alg);

	const text = pem.trim();
	if (!text.startsWith(PKCS8_HEADER)) {
		const found = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
		throw new InvalidKeyError(
			found?.includes('PUBLIC') ? 'public_key' : 'wrong_pem_type',
			found === undefined
				? `expected a PEM starting with ${PKCS8_HEADER}`
				: found === 'EC PRIVATE KEY' || found === 'RSA PRIVATE KEY'
					? `expected PKCS#8 (${PKCS8_HEADER}), got ${found}; convert it with \`openssl pkcs8 -topk8 -nocrypt\``
					: `expected PKCS#8 (${PKCS8_HEADER}), got ${found}`,
		);
	}

	// a PEM kept in an environment variable often has its line breaks written as `\n`, which no
	// base64 decoder takes; say so rather than calling the key corrupt
	if (/\\[nr]/.test(text)) {
		throw new InvalidKeyError(
			'invalid_key',
			'the PEM holds literal "\\n" sequences instead of line breaks (as an environment variable often does): replace them with newlines first, such as pem.replaceAll("\\\\n", "\\n")',
		);
	}

	let cryptoKey: CryptoKey;
	let der: Uint8Array<ArrayBuffer> | undefined;
	try {
		der = derOf(text);
		cryptoKey = await importDer(der, alg, true);
	} catch {
		if (der === undefined) {
			throw new InvalidKeyError('invalid_key', 'the PEM is not a valid PKCS#8 private key');
		}
		const bytes = der;
		// tell a key for another algorithm from a corrupt one: only the error path pays for this
		const fitsAnother = await Promise.any(
			SIGNING_ALGORITHMS.filter((other) => other !== alg).map((other) => importDer(bytes, other, false)),
		).then(
			() => true,
			() => false,
		);
		throw fitsAnother
			? new InvalidKeyError('alg_mismatch', `the PEM holds a private key, but not one for ${alg}`)
			: new InvalidKeyError('invalid_key', 'the PEM is not a valid PKCS#8 private key');
	}

	const jwk = (await globalThis.crypto.subtle.exportKey('jwk', cryptoKey)) as Record<string, unknown>;
	// runs the same fit checks as a JWK import (curve, RSA modulus size)
	resolveJwkAlgorithm(jwk, alg);

	const createSigner = options.createSigner ?? createWebCryptoSigner;
	return toPrivateKey(
		{ alg, cryptoKey, publicJwk: publicJwkOf(jwk), sign: createSigner(cryptoKey, alg) },
		kid,
	);
};
