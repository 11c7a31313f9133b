import { generateKeyPairSync } from 'node:crypto';

import {
	base64url,
	compactVerify,
	exportPKCS8,
	exportSPKI,
	generateKeyPair,
	importJWK,
	importPKCS8,
} from 'jose';
import { describe, expect, it } from 'vitest';

import { InvalidKeyError, type InvalidKeyReason } from './errors.ts';
import { exportJwkKey } from './export-jwk-key.ts';
import { exportPkcs8Key } from './export-pkcs8-key.ts';
import { generatePrivateKey } from './generate-private-key.ts';
import { type ImportPkcs8KeyOptions, importPkcs8Key } from './import-pkcs8-key.ts';
import type { PrivateKey } from './private-key.ts';
import type { SigningAlgorithm } from './signing-algorithm.ts';
import type { CreateSigner, SignFunction } from './signing-key.ts';

const encoder = new TextEncoder();

/** the base64 body of a PEM, without its header and footer lines. */
const pemBody = (pem: string): string =>
	pem
		.split('\n')
		.filter((line) => line !== '' && !line.startsWith('-----'))
		.join('');

/** awaits a rejection and checks it is an InvalidKeyError with `reason` that quotes no PEM body. */
const expectInvalidKey = async (
	promise: Promise<unknown>,
	reason: InvalidKeyReason,
	pem = '',
): Promise<InvalidKeyError> => {
	const error = await promise.then(
		() => {
			throw new Error('expected the import to be rejected');
		},
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(InvalidKeyError);
	expect(error).toBeInstanceOf(TypeError);
	const invalid = error as InvalidKeyError;
	expect(invalid.code).toBe('ERR_INVALID_KEY');
	expect(invalid.reason).toBe(reason);

	const body = pemBody(pem);
	for (let i = 0; i + 9 <= body.length; i += 4) {
		expect(invalid.message).not.toContain(body.slice(i, i + 9));
	}
	return invalid;
};

/** checks with jose that `key.sign` makes signatures `publicJwk` verifies. */
const expectSignsFor = async (key: PrivateKey, publicJwk: object): Promise<void> => {
	const input = `${base64url.encode(JSON.stringify({ alg: key.alg }))}.${base64url.encode('payload')}`;
	const signature = await key.sign(encoder.encode(input));
	const publicKey = await importJWK({ ...publicJwk }, key.alg);
	await expect(
		compactVerify(`${input}.${base64url.encode(signature)}`, publicKey, { algorithms: [key.alg] }),
	).resolves.toBeDefined();
};

/** a self-signed certificate (public), as `openssl pkcs12 -nodes` writes beside a key. */
const CERTIFICATE = [
	'-----BEGIN CERTIFICATE-----',
	'MIIBbjCCAROgAwIBAgIUQ9FDZ6LhAhjH2nJngOJvijPb1VswCgYIKoZIzj0EAwIw',
	'DDEKMAgGA1UEAwwBdDAeFw0yNjEyMDUxNTUyMzRaFw0yNjEyMDYxNTUyMzRaMAwx',
	'CjAIBgNVBAMMAXQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASsivYS/X50SuYt',
	'BTWONoBokAceoCfv+mVZlfFtwZ+K+ZX8gcebnu090MfnM4TKiM0uMYMlpCY6yva6',
	'qU+RlRnyo1MwUTAdBgNVHQ4EFgQU0XmFM7XYYJfiW5HL4Qa1V+ypspEwHwYDVR0j',
	'BBgwFoAU0XmFM7XYYJfiW5HL4Qa1V+ypspEwDwYDVR0TAQH/BAUwAwEB/zAKBggq',
	'hkjOPQQDAgNJADBGAiEAhWpijjf8OCvgwWAS6YNZsn7WqZ5qspmID6Thu4hWXY4C',
	'IQDFHk1CSfAhPllN11EaR8onHiUC8PnR/OkKfBPmszOLFA==',
	'-----END CERTIFICATE-----',
].join('\n');

const es256 = await generatePrivateKey('k1', 'ES256');
const es256Pem = await exportPkcs8Key(es256);

describe('exportPkcs8Key', () => {
	it('writes a PKCS#8 PEM', () => {
		expect(es256Pem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
		expect(es256Pem.trim().endsWith('-----END PRIVATE KEY-----')).toBe(true);
	});

	it('writes a PEM that jose imports as the same key', async () => {
		const imported = await importPKCS8(es256Pem, 'ES256', { extractable: true });
		const reimported = await importPkcs8Key(await exportPKCS8(imported), { kid: 'jose' });
		expect(reimported.publicJwk).toEqual(es256.publicJwk);
	});
});

describe('importPkcs8Key', () => {
	it('round-trips an ES256 key under a new kid', async () => {
		const key = await importPkcs8Key(es256Pem, { kid: 'k2' });
		expect(key.kid).toBe('k2');
		expect(key.alg).toBe('ES256');
		expect(key.cryptoKey.type).toBe('private');
		expect(key.publicJwk).toEqual(es256.publicJwk);
		expect(Object.keys(key.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
		await expectSignsFor(key, es256.publicJwk);

		// and the imported key can be exported again, to the same private key
		expect(await exportPkcs8Key(key)).toBe(es256Pem);
		expect((await exportJwkKey(key)).d).toBe((await exportJwkKey(es256)).d);
	});

	it('imports a P-384 key with alg ES384', async () => {
		const original = await generatePrivateKey('p384', 'ES384');
		const key = await importPkcs8Key(await exportPkcs8Key(original), { kid: 'k384', alg: 'ES384' });
		expect(key.alg).toBe('ES384');
		expect(key.publicJwk).toEqual(original.publicJwk);
		await expectSignsFor(key, original.publicJwk);
	});

	it('imports an RSA key with alg PS256', async () => {
		const original = await generatePrivateKey('rsa', 'PS256');
		const key = await importPkcs8Key(await exportPkcs8Key(original), { kid: 'rsa2', alg: 'PS256' });
		expect(key.alg).toBe('PS256');
		expect(key.publicJwk).toEqual(original.publicJwk);
		expect(Object.keys(key.publicJwk).sort()).toEqual(['e', 'kty', 'n']);
		await expectSignsFor(key, original.publicJwk);
	});

	it('imports a PEM surrounded by whitespace, with CRLF line endings', async () => {
		const key = await importPkcs8Key(`\n\n${es256Pem.replaceAll('\n', '\r\n')}  \n`, { kid: 'ws' });
		expect(key.publicJwk).toEqual(es256.publicJwk);
	});

	it('signs through options.createSigner when given', async () => {
		const calls: unknown[][] = [];
		const fakeSign: SignFunction = () => new Uint8Array([9]);
		const createSigner: CreateSigner = (cryptoKey, alg) => {
			calls.push([cryptoKey, alg]);
			return fakeSign;
		};
		const key = await importPkcs8Key(es256Pem, { kid: 'custom', createSigner });
		expect(key.sign).toBe(fakeSign);
		expect(calls).toEqual([[key.cryptoKey, 'ES256']]);
	});

	it('rejects a missing kid with reason missing_kid', async () => {
		await expectInvalidKey(importPkcs8Key(es256Pem, {} as ImportPkcs8KeyOptions), 'missing_kid', es256Pem);
	});

	it('rejects missing options with reason missing_kid, saying a PEM carries no kid', async () => {
		for (const [options, got] of [
			[undefined, 'undefined'],
			[null, 'null'],
			['k1', 'string'],
			[{ alg: 'ES256' }, 'options without one'],
		] as const) {
			const error = await expectInvalidKey(
				importPkcs8Key(es256Pem, options as never),
				'missing_kid',
				es256Pem,
			);
			expect(error.message).toBe(
				`importPkcs8Key needs options with a "kid" (a PEM carries no key id): { kid, alg? }, got ${got}`,
			);
		}
	});

	it('rejects a PEM whose line breaks are literal \\n sequences, saying to replace them', async () => {
		const escaped = es256Pem.replace(/\n/g, '\\n');
		expect(escaped).not.toContain('\n');
		const error = await expectInvalidKey(importPkcs8Key(escaped, { kid: 'k' }), 'invalid_key', es256Pem);
		expect(error.message).toContain('literal "\\n" sequences');
		expect(error.message).toContain('pem.replaceAll("\\\\n", "\\n")');
	});

	it('rejects an empty kid with reason missing_kid', async () => {
		await expectInvalidKey(importPkcs8Key(es256Pem, { kid: '' }), 'missing_kid', es256Pem);
	});

	it('rejects a non-string input with reason not_an_object', async () => {
		await expectInvalidKey(importPkcs8Key(undefined as unknown as string, { kid: 'k' }), 'not_an_object');
		await expectInvalidKey(importPkcs8Key({} as unknown as string, { kid: 'k' }), 'not_an_object');
	});

	it('rejects an SPKI public key PEM with reason public_key', async () => {
		const { publicKey } = await generateKeyPair('ES256', { extractable: true });
		const spki = await exportSPKI(publicKey);
		expect(spki.startsWith('-----BEGIN PUBLIC KEY-----')).toBe(true);
		await expectInvalidKey(importPkcs8Key(spki, { kid: 'k' }), 'public_key', spki);
	});

	it('rejects an RSA PUBLIC KEY PEM with reason public_key', async () => {
		const pem = '-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA\n-----END RSA PUBLIC KEY-----';
		await expectInvalidKey(importPkcs8Key(pem, { kid: 'k' }), 'public_key');
	});

	it('rejects a SEC1 EC PRIVATE KEY PEM with reason wrong_pem_type, saying how to convert it', async () => {
		const sec1 = es256Pem
			.replace('-----BEGIN PRIVATE KEY-----', '-----BEGIN EC PRIVATE KEY-----')
			.replace('-----END PRIVATE KEY-----', '-----END EC PRIVATE KEY-----');
		const error = await expectInvalidKey(importPkcs8Key(sec1, { kid: 'k' }), 'wrong_pem_type', sec1);
		expect(error.message).toContain('EC PRIVATE KEY');
		expect(error.message).toContain('openssl pkcs8 -topk8');
	});

	it('rejects a PKCS#1 RSA PRIVATE KEY PEM with reason wrong_pem_type, saying how to convert it', async () => {
		const pkcs1 = es256Pem
			.replace('-----BEGIN PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----')
			.replace('-----END PRIVATE KEY-----', '-----END RSA PRIVATE KEY-----');
		const error = await expectInvalidKey(importPkcs8Key(pkcs1, { kid: 'k' }), 'wrong_pem_type', pkcs1);
		expect(error.message).toContain('openssl pkcs8 -topk8');
	});

	it('rejects an ENCRYPTED PRIVATE KEY PEM with reason wrong_pem_type', async () => {
		const encrypted = es256Pem.replaceAll('PRIVATE KEY', 'ENCRYPTED PRIVATE KEY');
		const error = await expectInvalidKey(
			importPkcs8Key(encrypted, { kid: 'k' }),
			'wrong_pem_type',
			encrypted,
		);
		expect(error.message).toContain('ENCRYPTED PRIVATE KEY');
	});

	it('rejects garbage text with reason wrong_pem_type', async () => {
		await expectInvalidKey(importPkcs8Key('not a pem at all', { kid: 'k' }), 'wrong_pem_type');
		await expectInvalidKey(importPkcs8Key('', { kid: 'k' }), 'wrong_pem_type');
		// the body alone, without the PEM armour
		await expectInvalidKey(importPkcs8Key(pemBody(es256Pem), { kid: 'k' }), 'wrong_pem_type', es256Pem);
	});

	it('rejects a PKCS#8 PEM with a corrupted body', async () => {
		const corrupted = [
			'-----BEGIN PRIVATE KEY-----',
			// a truncated PKCS#8 P-256 key
			'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg',
			'-----END PRIVATE KEY-----',
		].join('\n');
		const error = await importPkcs8Key(corrupted, { kid: 'k' }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(InvalidKeyError);
		// it is no key at all, so not a key for another algorithm either
		expect((error as InvalidKeyError).reason).toBe('invalid_key');
	});

	it('rejects an ES256 PEM imported with alg ES384 with reason alg_mismatch', async () => {
		const error = await expectInvalidKey(
			importPkcs8Key(es256Pem, { kid: 'k', alg: 'ES384' }),
			'alg_mismatch',
			es256Pem,
		);
		expect(error.message).toContain('ES384');
	});

	it('rejects an RSA PEM imported with the default alg ES256, naming the algs to pass', async () => {
		const rsa = await generatePrivateKey('rsa', 'RS256');
		const pem = await exportPkcs8Key(rsa);
		const error = await expectInvalidKey(importPkcs8Key(pem, { kid: 'k' }), 'alg_mismatch', pem);
		expect(error.message).toBe(
			"the PEM holds an RSA private key, not one for ES256: pass alg 'PS256' or 'RS256' (or PS384, PS512, RS384, RS512)",
		);
	});

	it('rejects a P-384 PEM imported with the default alg ES256, naming ES384', async () => {
		const pem = await exportPkcs8Key(await generatePrivateKey('p384', 'ES384'));
		const error = await expectInvalidKey(importPkcs8Key(pem, { kid: 'k' }), 'alg_mismatch', pem);
		expect(error.message).toBe("the PEM holds a P-384 private key, not one for ES256: pass alg 'ES384'");
	});

	it('rejects a P-256 PEM imported with alg RS256, naming ES256', async () => {
		const error = await expectInvalidKey(
			importPkcs8Key(es256Pem, { kid: 'k', alg: 'RS256' }),
			'alg_mismatch',
			es256Pem,
		);
		expect(error.message).toBe("the PEM holds a P-256 private key, not one for RS256: pass alg 'ES256'");
	});

	it.each([
		[
			'Ed25519',
			// openssl genpkey -algorithm ed25519 (a throwaway test key)
			['MC4CAQAwBQYDK2VwBCIEIHfOrYfktVCV2OIUBHT0qtA77jdw66L2hjdmUCY+i17e'],
		],
		[
			'EC secp256k1',
			// openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 (a throwaway test key)
			[
				'MIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQgSlpndHGAG3DHbPQUsUq6',
				'MdQFswqt+ADjdrc1RAuuAuWhRANCAAQGaSf8c1LkPZKMOosg6xru0Mv3m7VRe6wg',
				'VUaE5bA2NWLWnmpTHhsJFtd5y45JFdZUKTiHjnSoaQDFe3iRRAaS',
			],
		],
	])(
		'rejects a valid PKCS#8 %s key with reason unsupported_key_type, naming its type',
		async (type, body) => {
			const pem = ['-----BEGIN PRIVATE KEY-----', ...body, '-----END PRIVATE KEY-----'].join('\n');
			const error = await expectInvalidKey(importPkcs8Key(pem, { kid: 'k' }), 'unsupported_key_type', pem);
			expect(error.message).toBe(
				`the PEM holds a PKCS#8 ${type} private key, which is not supported; use an EC (P-256, P-384 or P-521) or RSA key`,
			);
		},
	);

	it('imports the key from `openssl pkcs12 -nodes` output: Bag Attributes and a certificate before it', async () => {
		// the shape OpenSSL 3 writes: the certificate's bag, then the key's
		const bundle = [
			'Bag Attributes',
			'    friendlyName: client',
			'    localKeyID: 0E 88 90 01 E4 6B 0E 5D 6D A0 F2 CC 80 7B EC 7D 3F 86 6F A4 ',
			'subject=CN = t',
			'issuer=CN = t',
			CERTIFICATE,
			'Bag Attributes',
			'    friendlyName: client',
			'Key Attributes: <No Attributes>',
			es256Pem,
		].join('\n');
		const key = await importPkcs8Key(bundle, { kid: 'p12' });
		expect(key.publicJwk).toEqual(es256.publicJwk);
	});

	it('imports a key followed by a certificate', async () => {
		const key = await importPkcs8Key(`${es256Pem}\n${CERTIFICATE}\n`, { kid: 'k' });
		expect(key.publicJwk).toEqual(es256.publicJwk);
	});

	it('rejects two PRIVATE KEY blocks with reason invalid_key rather than ignoring the second', async () => {
		const other = await exportPkcs8Key(await generatePrivateKey('k2', 'ES256'));
		for (const text of [
			`${es256Pem}\n${other}`,
			`${es256Pem}${other}`,
			`${es256Pem}\n${CERTIFICATE}\n${other}`,
		]) {
			const error = await expectInvalidKey(importPkcs8Key(text, { kid: 'k' }), 'invalid_key', text);
			expect(error.message).toBe(
				'the PEM holds more than one private key; pass one key per importPkcs8Key call',
			);
		}
		// a second key in another format after the first is refused too
		const sec1 = other.replaceAll('PRIVATE KEY', 'EC PRIVATE KEY');
		await expectInvalidKey(importPkcs8Key(`${es256Pem}\n${sec1}`, { kid: 'k' }), 'invalid_key', sec1);
		// and before it: the key that signs must not depend on which one comes first
		for (const first of [sec1, sec1.replaceAll('EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY')]) {
			const text = `${first}\n${es256Pem}`;
			const error = await expectInvalidKey(importPkcs8Key(text, { kid: 'k' }), 'invalid_key', text);
			expect(error.message).toContain('more than one private key');
		}
	});

	it('names an RSA-PSS PKCS#8 key (id-RSASSA-PSS) as unsupported, saying how to convert it', async () => {
		const { privateKey } = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
		const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
		const error = await expectInvalidKey(
			importPkcs8Key(pem, { kid: 'k', alg: 'PS256' }),
			'unsupported_key_type',
			pem,
		);
		expect(error.message).toMatch(/RSA-PSS \(id-RSASSA-PSS\).*rsaEncryption.*'PS256'/);
	});

	it('rejects a PEM without its footer with reason invalid_key', async () => {
		const cut = es256Pem.replace('-----END PRIVATE KEY-----', '');
		const error = await expectInvalidKey(importPkcs8Key(cut, { kid: 'k' }), 'invalid_key', es256Pem);
		expect(error.message).toContain('-----END PRIVATE KEY-----');
	});

	it('names the key block among other blocks when there is no PKCS#8 one', async () => {
		const encrypted = es256Pem.replaceAll('PRIVATE KEY', 'ENCRYPTED PRIVATE KEY');
		const error = await expectInvalidKey(
			importPkcs8Key(`Bag Attributes\n${CERTIFICATE}\n${encrypted}`, { kid: 'k' }),
			'wrong_pem_type',
			encrypted,
		);
		expect(error.message).toContain('got ENCRYPTED PRIVATE KEY');
	});

	it('rejects an EC PEM imported with alg RS256', async () => {
		await expectInvalidKey(importPkcs8Key(es256Pem, { kid: 'k', alg: 'RS256' }), 'alg_mismatch', es256Pem);
	});

	it('rejects a 1024-bit RSA PEM with reason weak_key', async () => {
		const pair = (await globalThis.crypto.subtle.generateKey(
			{
				name: 'RSASSA-PKCS1-v1_5',
				modulusLength: 1024,
				publicExponent: new Uint8Array([1, 0, 1]),
				hash: 'SHA-256',
			},
			true,
			['sign', 'verify'],
		)) as CryptoKeyPair;
		const pem = await exportPKCS8(pair.privateKey);
		await expectInvalidKey(importPkcs8Key(pem, { kid: 'weak', alg: 'RS256' }), 'weak_key', pem);
	});

	it('rejects an RSA PEM with public exponent 1 with reason weak_key', async () => {
		const jwk = await exportJwkKey(await generatePrivateKey('rsa', 'RS256'));
		// a consistent key: with e = 1, d = dp = dq = 1 (qi depends on p and q alone)
		const { kid: _kid, alg: _alg, ...params } = { ...jwk, e: 'AQ', d: 'AQ', dp: 'AQ', dq: 'AQ' };
		const cryptoKey = await globalThis.crypto.subtle.importKey(
			'jwk',
			params,
			{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
			true,
			['sign'],
		);
		const pem = await exportPKCS8(cryptoKey);
		await expectInvalidKey(importPkcs8Key(pem, { kid: 'weak', alg: 'RS256' }), 'weak_key', pem);
	});

	for (const alg of ['EdDSA', 'ES256K', 'none']) {
		it(`rejects alg ${alg} with reason unsupported_alg, as generatePrivateKey does`, async () => {
			const error = await expectInvalidKey(
				importPkcs8Key(es256Pem, { kid: 'k', alg: alg as SigningAlgorithm }),
				'unsupported_alg',
				es256Pem,
			);
			expect(error.message).toContain(alg);
			await expect(generatePrivateKey('k', alg as SigningAlgorithm)).rejects.toMatchObject({
				reason: 'unsupported_alg',
			});
		});
	}
});
