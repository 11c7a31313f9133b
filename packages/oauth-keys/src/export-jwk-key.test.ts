import { base64url, CompactSign, compactVerify, importJWK, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';

import { exportJwkKey } from './export-jwk-key.ts';
import { exportPkcs8Key } from './export-pkcs8-key.ts';
import { exportSigningJwk } from './export-signing-jwk.ts';
import { generatePrivateKey } from './generate-private-key.ts';
import { generateSigningKey } from './generate-signing-key.ts';
import { importJwkKey } from './import-jwk-key.ts';
import { Keyset } from './keyset.ts';
import type { PrivateKey } from './private-key.ts';

const encoder = new TextEncoder();

/** signs with jose using the exported private JWK and verifies against the key's own public JWK. */
const expectExportedJwkSignsFor = async (exported: object, key: PrivateKey): Promise<void> => {
	const { kid: _kid, alg: _alg, ...params } = exported as Record<string, unknown>;
	const privateKey = await importJWK(params as JWK, key.alg);
	const jws = await new CompactSign(encoder.encode('exported'))
		.setProtectedHeader({ alg: key.alg })
		.sign(privateKey);
	const publicKey = await importJWK({ ...key.publicJwk }, key.alg);
	await expect(compactVerify(jws, publicKey, { algorithms: [key.alg] })).resolves.toBeDefined();
};

/** checks with jose that `key.sign` makes signatures `publicJwk` verifies. */
const expectSignsFor = async (key: PrivateKey, publicJwk: object): Promise<void> => {
	const input = `${base64url.encode(JSON.stringify({ alg: key.alg }))}.${base64url.encode('payload')}`;
	const signature = await key.sign(encoder.encode(input));
	const publicKey = await importJWK({ ...publicJwk } as JWK, key.alg);
	await expect(
		compactVerify(`${input}.${base64url.encode(signature)}`, publicKey, { algorithms: [key.alg] }),
	).resolves.toBeDefined();
};

describe('exportJwkKey', () => {
	it('round-trips the documented usage: generate, export, import, stringify, import again', async () => {
		const privateKey = await generatePrivateKey('main', 'ES256');
		const jwk = await exportJwkKey(privateKey);
		await importJwkKey(jwk);
		const json = JSON.stringify(jwk);
		const again = await importJwkKey(json);

		expect(again.kid).toBe('main');
		expect(again.alg).toBe('ES256');
		expect(again.publicJwk).toEqual(privateKey.publicJwk);
		expect(await exportJwkKey(again)).toEqual(jwk);

		// the re-imported key signs for the original public key, and the other way round
		await expectSignsFor(again, privateKey.publicJwk);
		await expectSignsFor(privateKey, again.publicJwk);

		const keys = await Promise.all([importJwkKey(json)]);
		const keyset = new Keyset(keys);
		expect(keyset.size).toBe(1);
		expect(keyset.get('main')?.publicJwk).toEqual(privateKey.publicJwk);
	});

	it('exports an EC key as exactly kid, alg, kty, crv, x, y, d in that order', async () => {
		const key = await generatePrivateKey('ec', 'ES384');
		const jwk = await exportJwkKey(key);
		expect(Object.keys(jwk)).toEqual(['kid', 'alg', 'kty', 'crv', 'x', 'y', 'd']);
		expect(jwk).toMatchObject({ kid: 'ec', alg: 'ES384', ...key.publicJwk });
		expect(typeof jwk.d).toBe('string');
		await expectExportedJwkSignsFor(jwk, key);
	});

	it('round-trips a PS256 key, with all RSA private parameters in a fixed order', async () => {
		const key = await generatePrivateKey('rsa', 'PS256');
		const jwk = await exportJwkKey(key);
		expect(Object.keys(jwk)).toEqual(['kid', 'alg', 'kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi']);
		expect(jwk).toMatchObject({ kid: 'rsa', alg: 'PS256', ...key.publicJwk });
		for (const value of Object.values(jwk)) {
			expect(typeof value).toBe('string');
		}
		await expectExportedJwkSignsFor(jwk, key);

		const json = JSON.stringify(jwk);
		const again = await importJwkKey(json);
		expect(again.kid).toBe('rsa');
		expect(again.alg).toBe('PS256');
		expect(again.publicJwk).toEqual(key.publicJwk);
		expect(await exportJwkKey(again)).toEqual(jwk);
		await expectSignsFor(again, key.publicJwk);
	});

	it('round-trips an imported key with the kid given in options', async () => {
		const key = await generatePrivateKey('first');
		const { kid: _kid, ...withoutKid } = await exportJwkKey(key);
		const imported = await importJwkKey(withoutKid, { kid: 'second' });
		const exported = await exportJwkKey(imported);
		expect(exported.kid).toBe('second');
		expect(exported.d).toBe(withoutKid.d);
	});

	it('keeps the private key out of JSON.stringify of the key object', async () => {
		for (const alg of ['ES256', 'PS256'] as const) {
			const privateKey = await generatePrivateKey('secret', alg);
			const jwk = await exportJwkKey(privateKey);
			const text = JSON.stringify(privateKey);
			expect(text).not.toContain(jwk.d);
			expect(text).not.toContain('"d"');
			if (jwk.kty === 'RSA') {
				for (const field of [jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi]) {
					expect(text).not.toContain(field);
				}
			}
		}
	});
});

describe('exporting something that is not a key', () => {
	it('throws a TypeError naming the export and where keys come from, quoting no key material', async () => {
		const key = await generatePrivateKey('k1', 'ES256');
		const jwk = await exportJwkKey(key);
		const cases: [input: unknown, got: string][] = [
			[jwk, 'a JWK, which is exported already'],
			[Promise.resolve(key), 'a Promise: await it first'],
			[undefined, 'undefined'],
			[null, 'null'],
			[JSON.stringify(jwk), 'string'],
			[
				{ ...key, cryptoKey: (await generateSigningKey('ES256')).publicJwk },
				'an object without a private cryptoKey',
			],
		];
		for (const [input, got] of cases) {
			for (const [name, run, makers] of [
				['exportJwkKey', exportJwkKey, 'importJwkKey/generatePrivateKey/importPkcs8Key'],
				['exportPkcs8Key', exportPkcs8Key, 'importJwkKey/generatePrivateKey/importPkcs8Key'],
				['exportSigningJwk', exportSigningJwk, 'generateSigningKey/importSigningJwk'],
			] as const) {
				const error = await (run as (key: unknown) => Promise<unknown>)(input).then(
					() => undefined,
					(e: unknown) => e,
				);
				expect(error, `${name} of ${got}`).toBeInstanceOf(TypeError);
				expect((error as TypeError).message).toBe(`${name} expects a key from ${makers}, got ${got}`);
				expect((error as TypeError).message).not.toContain((jwk as { d: string }).d);
			}
		}
	});
});

describe('exportSigningJwk', () => {
	it('exports only the key parameters, without kid or alg', async () => {
		const key = await generateSigningKey('ES256');
		const jwk = await exportSigningJwk(key);
		expect(Object.keys(jwk)).toEqual(['kty', 'crv', 'x', 'y', 'd']);
		expect(jwk).toMatchObject(key.publicJwk);
	});

	it('exports each key with its own private d', async () => {
		const a = await generatePrivateKey('a');
		const b = await generatePrivateKey('b');
		expect((await exportSigningJwk(a)).d).not.toBe((await exportSigningJwk(b)).d);
	});
});
