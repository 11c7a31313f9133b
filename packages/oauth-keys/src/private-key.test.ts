import { describe, expect, it } from 'vitest';

import { InvalidKeyError } from './errors.ts';
import { exportJwkKey } from './export-jwk-key.ts';
import { exportPkcs8Key } from './export-pkcs8-key.ts';
import { generatePrivateKey } from './generate-private-key.ts';
import { importJwkKey } from './import-jwk-key.ts';
import { importPkcs8Key } from './import-pkcs8-key.ts';
import { Keyset } from './keyset.ts';
import { checkKid, type PrivateKey } from './private-key.ts';

const key = await generatePrivateKey('main', 'ES256');
const jwk = await exportJwkKey(key);
const pem = await exportPkcs8Key(key);

/** the InvalidKeyError `fn` throws. */
const thrown = (fn: () => unknown): InvalidKeyError => {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(InvalidKeyError);
		expect((error as InvalidKeyError).reason).toBe('missing_kid');
		return error as InvalidKeyError;
	}
	throw new Error('expected checkKid to throw');
};

describe('checkKid', () => {
	it.each([
		['a plain name', 'main'],
		['one character', 'k'],
		['256 characters', 'k'.repeat(256)],
		['every printable ASCII character, inner spaces included', 'a !"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~z'],
	])('accepts %s', (_label, kid) => {
		expect(checkKid(kid)).toBe(kid);
	});

	it.each([
		['an empty string', '', /is empty/],
		['257 characters', 'k'.repeat(257), /is 257 characters long; at most 256/],
		['a trailing newline', 'main\n', /control character .* at position 4/],
		['a tab', 'ma\tin', /control character/],
		['a DEL character', 'main\u007f', /control character/],
		['a non-ASCII character', 'clé', /non-ASCII character at position 2/],
		['an emoji', 'key-🔑', /non-ASCII/],
		['a leading space', ' main', /starts or ends with a space/],
		['a trailing space', 'main ', /starts or ends with a space/],
		['spaces only', '   ', /starts or ends with a space/],
	])('refuses %s, saying what is wrong without repeating the kid', (_label, kid, message) => {
		const error = thrown(() => checkKid(kid));
		expect(error.message).toMatch(message);
		if (kid.trim() !== '') expect(error.message).not.toContain(kid.trim());
	});

	it('refuses a kid holding a whole private JWK (pretty-printed, or RSA) without quoting it', async () => {
		const rsa = await exportJwkKey(await generatePrivateKey('rsa', 'RS256'));
		for (const [secret, text, message] of [
			[jwk.d, JSON.stringify(jwk, null, 2), /control character/],
			[rsa.d, JSON.stringify(rsa), /is \d+ characters long/],
		] as const) {
			const error = thrown(() => checkKid(text));
			expect(error.message).toMatch(message);
			expect(error.message).not.toContain(secret.slice(0, 12));
		}
	});

	it.each([
		[{ d: 'SECRET-PRIVATE-VALUE' }, 'object'],
		[['SECRET-PRIVATE-VALUE'], 'an array'],
		[null, 'null'],
		[7, 'number'],
	])('names a non-string kid by its type only (%j)', (kid, type) => {
		const error = thrown(() => checkKid(kid));
		expect(error.message).toBe(`the key's "kid" must be a string, got ${type}`);
		expect(error.message).not.toContain('SECRET');
	});

	it('is what every import runs', async () => {
		const { kid: _kid, ...params } = jwk;
		await expect(importJwkKey(params, { kid: 'main\n' })).rejects.toMatchObject({ reason: 'missing_kid' });
		await expect(importJwkKey({ ...params, kid: { d: jwk.d } as never })).rejects.toThrow(
			`the key's "kid" must be a string, got object`,
		);
		await expect(importPkcs8Key(pem, { kid: ' main' })).rejects.toMatchObject({ reason: 'missing_kid' });
		await expect(generatePrivateKey('x'.repeat(300))).rejects.toMatchObject({ reason: 'missing_kid' });
	});
});

describe('Keyset', () => {
	it('refuses a hand-built key whose kid is unusable, naming the entry and not the kid', () => {
		const handBuilt = { ...key, kid: 'secret\ntoken' } as PrivateKey;
		const build = () => new Keyset([key, handBuilt]);
		expect(build).toThrow(InvalidKeyError);
		expect(build).toThrow(/keyset entry 1: the key's "kid" holds a control character/);
		expect(build).not.toThrow(/secret/);
	});
});
