import { InvalidKeyError } from './errors.ts';
import { base64Decode } from './internal/base64url.ts';
import { pkcs8AlgorithmOf } from './internal/pkcs8-algorithm.ts';
import { publicJwkOf } from './internal/public-jwk-of.ts';
import { checkSigningAlgorithm, resolveJwkAlgorithm } from './internal/resolve-jwk-algorithm.ts';
import { EC_CURVE_BY_ALG, keyParamsOf, keyTypeOf } from './internal/webcrypto-algorithms.ts';
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

/**
 * the PKCS#8 key types WebCrypto imports for one of our algorithms. not RSA-PSS (`id-RSASSA-PSS`,
 * as `openssl genpkey -algorithm RSA-PSS` writes): WebCrypto imports only rsaEncryption keys,
 * PS256 included, so such a key is named as unsupported rather than called invalid
 */
const SUPPORTED_PKCS8_ALGORITHMS: ReadonlySet<string> = new Set(['RSA', 'EC P-256', 'EC P-384', 'EC P-521']);

const importDer = (der: Uint8Array<ArrayBuffer>, alg: SigningAlgorithm, extractable: boolean) =>
	globalThis.crypto.subtle.importKey('pkcs8', der, keyParamsOf(alg), extractable, ['sign']);

/** why a PEM's label is not PKCS#8, for a text without `-----BEGIN PRIVATE KEY-----`. */
const wrongPemType = (text: string): InvalidKeyError => {
	const labels = Array.from(text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g), (match) => match[1]!);
	// of a bundle (certificate and key), the key's label is the one to name
	const found = labels.find((label) => label.includes('PRIVATE KEY')) ?? labels[0];
	return new InvalidKeyError(
		found?.includes('PUBLIC') ? 'public_key' : 'wrong_pem_type',
		found === undefined
			? `expected a PEM with a ${PKCS8_HEADER} block`
			: found === 'EC PRIVATE KEY' || found === 'RSA PRIVATE KEY'
				? `expected PKCS#8 (${PKCS8_HEADER}), got ${found}; convert it with \`openssl pkcs8 -topk8 -nocrypt\``
				: `expected PKCS#8 (${PKCS8_HEADER}), got ${found}`,
	);
};

/**
 * the error for DER that WebCrypto would not import for `alg`: a key for other algorithms (named,
 * so the message says which alg to pass), a PKCS#8 key of a type we do not support, or no key.
 * only the error path pays for the extra imports.
 */
const refusalOf = async (der: Uint8Array<ArrayBuffer>, alg: SigningAlgorithm): Promise<InvalidKeyError> => {
	const others = SIGNING_ALGORITHMS.filter((other) => other !== alg);
	const results = await Promise.allSettled(others.map((other) => importDer(der, other, false)));
	const fits = others.filter((_, i) => results[i]!.status === 'fulfilled');
	if (fits.length > 0) {
		const kind = keyTypeOf(fits[0]!) === 'RSA' ? 'an RSA' : `a ${EC_CURVE_BY_ALG[fits[0]!]}`;
		// an RSA key signs with any RS or PS algorithm: the 256 ones first, the rest in brackets
		const first = fits.some((other) => other.endsWith('256'))
			? fits.filter((other) => other.endsWith('256'))
			: fits.slice(0, 1);
		const rest = fits.filter((other) => !first.includes(other));
		return new InvalidKeyError(
			'alg_mismatch',
			`the PEM holds ${kind} private key, not one for ${alg}: pass alg ${first.map((other) => `'${other}'`).join(' or ')}${rest.length > 0 ? ` (or ${rest.join(', ')})` : ''}`,
		);
	}
	// the algorithm identifier is public (an OID before the key), so naming it reveals nothing
	const type = pkcs8AlgorithmOf(der);
	if (type !== undefined && !SUPPORTED_PKCS8_ALGORITHMS.has(type)) {
		return new InvalidKeyError(
			'unsupported_key_type',
			type === 'RSA-PSS'
				? "the PEM holds a PKCS#8 RSA-PSS (id-RSASSA-PSS) private key, which WebCrypto cannot import; write it as an rsaEncryption key (`openssl pkey -traditional` then `openssl pkcs8 -topk8 -nocrypt`, or generate it with `openssl genpkey -algorithm RSA`) and pass alg 'PS256'"
				: `the PEM holds a PKCS#8 ${type} private key, which is not supported; use an EC (P-256, P-384 or P-521) or RSA key`,
		);
	}
	return new InvalidKeyError('invalid_key', 'the PEM is not a valid PKCS#8 private key');
};

/**
 * imports a client private key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). `options.kid`
 * is required: a PEM carries no key id. text before the key block (the "Bag Attributes" of
 * `openssl pkcs12 -nodes`) and blocks after it (a certificate) are ignored; a second private key
 * is refused.
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
	// `openssl pkcs12 -nodes` writes "Bag Attributes" lines (and may write certificates) before
	// the key: the key block starts at its header, wherever that is
	const begin = text.indexOf(PKCS8_HEADER);
	if (begin === -1) throw wrongPemType(text);
	const block = text.slice(begin);
	// a key before this one (SEC1, encrypted) would be passed over, as one after it would be taken
	// for a second: either way, which key signs must not be a guess
	const before = text.slice(0, begin);

	// a PEM kept in an environment variable often has its line breaks written as `\n`, which no
	// base64 decoder takes; say so rather than calling the key corrupt
	if (/\\[nr]/.test(block)) {
		throw new InvalidKeyError(
			'invalid_key',
			'the PEM holds literal "\\n" sequences instead of line breaks (as an environment variable often does): replace them with newlines first, such as pem.replaceAll("\\\\n", "\\n")',
		);
	}

	const end = block.indexOf(PKCS8_FOOTER);
	if (end === -1) {
		throw new InvalidKeyError('invalid_key', `the PEM has no ${PKCS8_FOOTER} line after its key`);
	}
	// a second key would be ignored, and the app would sign with whichever one came first; a
	// certificate after the key (as in a key-and-certificate bundle) is fine
	if (
		/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(before) ||
		/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(block.slice(end + PKCS8_FOOTER.length))
	) {
		throw new InvalidKeyError(
			'invalid_key',
			'the PEM holds more than one private key; pass one key per importPkcs8Key call',
		);
	}

	let der: Uint8Array<ArrayBuffer>;
	try {
		der = base64Decode(block.slice(PKCS8_HEADER.length, end).replace(/\s+/g, ''));
	} catch {
		throw new InvalidKeyError('invalid_key', 'the PEM is not a valid PKCS#8 private key');
	}
	let cryptoKey: CryptoKey;
	try {
		cryptoKey = await importDer(der, alg, true);
	} catch {
		throw await refusalOf(der, alg);
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
