import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';

import { NoCompatibleKeyError } from './errors.ts';
import { exportJwkKey } from './export-jwk-key.ts';
import { generatePrivateKey } from './generate-private-key.ts';
import { Keyset } from './keyset.ts';
import type { PrivateKey } from './private-key.ts';
import { withSigner } from './signing-key.ts';

const PRIVATE_FIELDS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'key_ops', 'ext', 'oth'];

const es256 = await generatePrivateKey('ec-1', 'ES256');
const es256b = await generatePrivateKey('ec-2', 'ES256');
const es384 = await generatePrivateKey('ec-384', 'ES384');
const rs256 = await generatePrivateKey('rsa-1', 'RS256');
const ps256 = await generatePrivateKey('ps-1', 'PS256');

/** the values of every private parameter of `key`, as exported. */
const privateValues = async (key: PrivateKey): Promise<string[]> => {
	const jwk = (await exportJwkKey(key)) as unknown as Record<string, unknown>;
	return PRIVATE_FIELDS.map((field) => jwk[field]).filter((v): v is string => typeof v === 'string');
};

describe('Keyset', () => {
	describe('constructor', () => {
		it.each([
			['undefined', undefined, 'undefined', ''],
			['null', null, 'null', ''],
			['a number', 1, 'number', ''],
		])('rejects %s with a TypeError naming keys', (_label, keys, got, hint) => {
			expect(() => new Keyset(keys as never)).toThrow(
				new TypeError(
					`new Keyset(keys) expects a list of private keys (each from importJwkKey or generatePrivateKey), got ${got}${hint}`,
				),
			);
		});

		it('rejects one key given alone, saying to pass it in a list', () => {
			expect(() => new Keyset(es256 as never)).toThrow(
				new TypeError(
					'new Keyset(keys) expects a list of private keys (each from importJwkKey or generatePrivateKey), got object (one key: pass it in a list, [key])',
				),
			);
		});

		it('rejects an empty list with a TypeError', () => {
			expect(() => new Keyset([])).toThrow(TypeError);
			expect(() => new Keyset([])).toThrow(/at least one key/);
		});

		it('rejects two keys with the same kid with a TypeError naming the kid', async () => {
			const twin = await generatePrivateKey('ec-1', 'ES384');
			expect(() => new Keyset([es256, rs256, twin])).toThrow(TypeError);
			expect(() => new Keyset([es256, rs256, twin])).toThrow('"ec-1"');
		});

		it('rejects the same key given twice', () => {
			expect(() => new Keyset([es256, es256])).toThrow(TypeError);
		});

		it('rejects a raw JWK object with a TypeError pointing at importJwkKey', async () => {
			const { privateKey } = await generateKeyPair('ES256', { extractable: true });
			const jwk = { ...(await exportJWK(privateKey)), kid: 'raw', alg: 'ES256' };
			const build = () => new Keyset([es256, jwk as unknown as PrivateKey]);
			expect(build).toThrow(TypeError);
			expect(build).toThrow(/importJwkKey/);
			// it names which entry is wrong
			expect(build).toThrow(/entry 1/);
		});

		it('rejects an exported JWK with a TypeError pointing at importJwkKey', async () => {
			const jwk = await exportJwkKey(es256);
			expect(() => new Keyset([jwk as unknown as PrivateKey])).toThrow(/importJwkKey/);
		});

		it('rejects null and non-objects with a TypeError', () => {
			expect(() => new Keyset([null as unknown as PrivateKey])).toThrow(TypeError);
			expect(() => new Keyset(['ec-1' as unknown as PrivateKey])).toThrow(TypeError);
		});

		it.each([
			[
				'an algorithm it does not support',
				{ alg: 'HS256' },
				/has alg "HS256", which is not a supported signing algorithm/,
			],
			['another curve', { alg: 'ES384' }, /has alg ES384, which its EC P-256 key cannot sign with/],
			['another key type', { alg: 'RS256' }, /has alg RS256, which its EC P-256 key cannot sign with/],
		])('rejects a key labelled with %s, naming its kid', (_label, change, message) => {
			const relabelled = { ...es256, kid: 'relabelled', ...change } as PrivateKey;
			expect(() => new Keyset([es256b, relabelled])).toThrow(TypeError);
			expect(() => new Keyset([es256b, relabelled])).toThrow(message);
			expect(() => new Keyset([es256b, relabelled])).toThrow('"relabelled"');
		});

		it.each([
			['RS256', 'RS512', 'RSASSA-PKCS1-v1_5 with SHA-256 (RS256)'],
			['RS256', 'PS256', 'RSASSA-PKCS1-v1_5 with SHA-256 (RS256)'],
			['PS256', 'RS256', 'RSA-PSS with SHA-256 (PS256)'],
			['PS256', 'PS384', 'RSA-PSS with SHA-256 (PS256)'],
		] as const)(
			'rejects an RSA key imported for %s and labelled %s, naming its kid and both algorithms',
			(from, to, real) => {
				const relabelled = {
					...(from === 'RS256' ? rs256 : ps256),
					kid: 'relabelled',
					alg: to,
				} as PrivateKey;
				const build = () => new Keyset([es256, relabelled]);
				expect(build).toThrow(TypeError);
				expect(build).toThrow(
					`keyset entry 1 (kid "relabelled") has alg ${to}, but its key was imported for ${real}; import the key for ${to} rather than relabelling it`,
				);
			},
		);

		it('rejects a hand-built key whose public JWK fits its alg but whose WebCrypto key does not', () => {
			// a P-384 public half around a P-256 private key
			const mixed = { ...es384, cryptoKey: es256.cryptoKey, kid: 'mixed' } as PrivateKey;
			expect(() => new Keyset([mixed])).toThrow(
				'keyset entry 0 (kid "mixed") has alg ES384, but its key was imported for ECDSA P-256 (ES256)',
			);
		});

		it('takes each supported algorithm on its own kind of key', () => {
			expect(new Keyset([es256, es384, rs256, ps256]).size).toBe(4);
		});

		it('rejects a key whose cryptoKey is a public key', async () => {
			const { publicKey } = await generateKeyPair('ES256', { extractable: true });
			const fake = { ...es256, cryptoKey: publicKey };
			expect(() => new Keyset([fake])).toThrow(TypeError);
		});

		it('accepts any iterable of keys, such as a generator', () => {
			function* keys(): Generator<PrivateKey> {
				yield es256;
				yield rs256;
			}
			expect(new Keyset(keys()).size).toBe(2);
		});

		it('accepts a key with a replaced signer', () => {
			const custom = withSigner(es256, () => () => new Uint8Array());
			expect(new Keyset([custom]).get('ec-1')).toBe(custom);
		});

		it('does not reorder the array it was given', () => {
			const list = [rs256, es256];
			new Keyset(list);
			expect(list).toEqual([rs256, es256]);
		});
	});

	it('reports its size and looks keys up by kid', () => {
		const keyset = new Keyset([es256, rs256]);
		expect(keyset.size).toBe(2);
		expect(keyset.get('ec-1')).toBe(es256);
		expect(keyset.get('rsa-1')).toBe(rs256);
		expect(keyset.get('missing')).toBeUndefined();
		expect(keyset.has('ec-1')).toBe(true);
		expect(keyset.has('rsa-1')).toBe(true);
		expect(keyset.has('missing')).toBe(false);
	});

	describe('publicJwks', () => {
		it('publishes each EC key with exactly its public parameters, kid, alg and use sig', () => {
			const keyset = new Keyset([es256, es384]);
			expect(keyset.publicJwks.keys).toEqual([
				{ ...es256.publicJwk, kid: 'ec-1', alg: 'ES256', use: 'sig' },
				{ ...es384.publicJwk, kid: 'ec-384', alg: 'ES384', use: 'sig' },
			]);
			for (const jwk of keyset.publicJwks.keys) {
				expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
			}
		});

		it('publishes each RSA key with exactly n, e, kid, alg and use sig', () => {
			const keyset = new Keyset([rs256, ps256]);
			for (const jwk of keyset.publicJwks.keys) {
				expect(Object.keys(jwk).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
			}
			expect(keyset.publicJwks.keys).toEqual([
				{
					kty: 'RSA',
					n: ps256.publicJwk.kty === 'RSA' && ps256.publicJwk.n,
					e: 'AQAB',
					kid: 'ps-1',
					alg: 'PS256',
					use: 'sig',
				},
				{
					kty: 'RSA',
					n: rs256.publicJwk.kty === 'RSA' && rs256.publicJwk.n,
					e: 'AQAB',
					kid: 'rsa-1',
					alg: 'RS256',
					use: 'sig',
				},
			]);
		});

		it('is frozen all the way down: the object, its keys array and each key', () => {
			const { publicJwks } = new Keyset([es256, rs256]);
			expect(Object.isFrozen(publicJwks)).toBe(true);
			expect(Object.isFrozen(publicJwks.keys)).toBe(true);
			expect(publicJwks.keys.every((jwk) => Object.isFrozen(jwk))).toBe(true);
			expect(() => publicJwks.keys.push({ ...publicJwks.keys[0]!, kid: 'injected' })).toThrow(TypeError);
			expect(() => publicJwks.keys.pop()).toThrow(TypeError);
			expect(publicJwks.keys).toHaveLength(2);
		});

		it('publishes no private field for EC or RSA keys', async () => {
			const keys = [es256, es384, rs256, ps256];
			const keyset = new Keyset(keys);
			for (const jwk of keyset.publicJwks.keys) {
				for (const field of PRIVATE_FIELDS) {
					expect(jwk).not.toHaveProperty(field);
				}
			}

			const text = JSON.stringify(keyset.publicJwks);
			expect(text).not.toContain('"d"');
			for (const key of keys) {
				const secrets = await privateValues(key);
				expect(secrets.length).toBeGreaterThan(0);
				for (const secret of secrets) {
					expect(text).not.toContain(secret);
				}
			}
		});

		it('publishes only the public parameters of a hand-built key whose publicJwk holds private ones', async () => {
			// e.g. a key object built around a KMS signer, with the full JWK passed as its public half
			for (const key of [es256, rs256]) {
				const full = (await exportJwkKey(key)) as unknown as Record<string, unknown>;
				const handBuilt = {
					...key,
					publicJwk: { ...full, key_ops: ['sign'], ext: true },
				} as unknown as PrivateKey;
				const [published] = new Keyset([handBuilt]).publicJwks.keys;
				expect(published).toEqual({ ...key.publicJwk, kid: key.kid, alg: key.alg, use: 'sig' });
				const text = JSON.stringify(published);
				for (const secret of await privateValues(key)) {
					expect(text).not.toContain(secret);
				}
			}
		});
	});

	it('orders ES256 keys before RS256 keys even when given later', () => {
		const keyset = new Keyset([rs256, ps256, es384, es256]);
		expect([...keyset].map((key) => key.alg)).toEqual(['ES256', 'ES384', 'PS256', 'RS256']);
		expect(keyset.publicJwks.keys.map((jwk) => jwk.kid)).toEqual(['ec-1', 'ec-384', 'ps-1', 'rsa-1']);
	});

	it('keeps the given order among keys of one algorithm', () => {
		expect([...new Keyset([es256b, rs256, es256])]).toEqual([es256b, es256, rs256]);
		expect([...new Keyset([es256, rs256, es256b])]).toEqual([es256, es256b, rs256]);
	});

	it('iterates over its keys', () => {
		const keyset = new Keyset([es256, rs256]);
		const seen: PrivateKey[] = [];
		for (const key of keyset) {
			seen.push(key);
		}
		expect(seen).toEqual([es256, rs256]);
	});

	describe('find', () => {
		const keyset = new Keyset([rs256, es256, ps256]);

		it('returns the most preferred key when given no criteria', () => {
			expect(keyset.find()).toBe(es256);
			expect(keyset.find({})).toBe(es256);
		});

		it('finds by a list of algorithms', () => {
			expect(keyset.find({ alg: ['RS256'] })).toBe(rs256);
			expect(keyset.find({ alg: ['RS256', 'PS256'] })).toBe(ps256);
			expect(keyset.find({ alg: ['ES512'] })).toBeUndefined();
			expect(keyset.find({ alg: [] })).toBeUndefined();
		});

		it('finds by a single algorithm', () => {
			expect(keyset.find({ alg: 'PS256' })).toBe(ps256);
			expect(keyset.find({ alg: 'ES384' })).toBeUndefined();
		});

		it('finds by kid', () => {
			expect(keyset.find({ kid: 'rsa-1' })).toBe(rs256);
			expect(keyset.find({ kid: 'nope' })).toBeUndefined();
		});

		it('throws a TypeError for a kid string rather than returning the preferred key', () => {
			const keyset = new Keyset([es256, rs256]);
			expect(() => keyset.find('rsa-1' as never)).toThrow(
				new TypeError(
					'keyset.find expects { kid?, alg? }, got string: for a key by kid, use find({ kid }) or get(kid)',
				),
			);
			expect(() => keyset.find(null as never)).toThrow(
				new TypeError('keyset.find expects { kid?, alg? }, got null'),
			);
			expect(keyset.find(undefined)).toBe(es256);
		});

		it('finds by kid and alg together, and only when both match', () => {
			expect(keyset.find({ kid: 'rsa-1', alg: 'RS256' })).toBe(rs256);
			expect(keyset.find({ kid: 'rsa-1', alg: 'ES256' })).toBeUndefined();
			expect(keyset.find({ kid: 'ec-1', alg: ['RS256', 'PS256'] })).toBeUndefined();
		});
	});

	describe('negotiate', () => {
		const keyset = new Keyset([rs256, es256]);

		it('picks the ES256 key when the server lists no algorithms', () => {
			expect(keyset.negotiate()).toBe(es256);
			expect(keyset.negotiate(undefined)).toBe(es256);
		});

		it('prefers our order over the server order', () => {
			expect(keyset.negotiate(['RS256', 'ES256'])).toBe(es256);
		});

		it('picks the only key the server accepts', () => {
			expect(keyset.negotiate(['RS256'])).toBe(rs256);
			expect(keyset.negotiate(['PS512', 'RS256', 'HS256'])).toBe(rs256);
		});

		it('picks the first given key when several share the preferred algorithm', () => {
			expect(new Keyset([es256b, es256]).negotiate()).toBe(es256b);
		});

		it('throws NoCompatibleKeyError naming both lists when nothing fits', () => {
			let error: unknown;
			try {
				keyset.negotiate(['PS256']);
			} catch (e) {
				error = e;
			}
			expect(error).toBeInstanceOf(NoCompatibleKeyError);
			const noKey = error as NoCompatibleKeyError;
			expect(noKey.name).toBe('NoCompatibleKeyError');
			expect(noKey.available).toEqual(['ES256', 'RS256']);
			expect(noKey.supported).toEqual(['PS256']);
			expect(noKey.message).toContain('we have ["ES256","RS256"]');
			expect(noKey.message).toContain('PS256');
			expect(noKey.message).toContain('client authentication');
		});

		it('refuses a server list that is a string rather than matching inside it', () => {
			expect(() => keyset.negotiate('xES256x' as unknown as string[])).toThrow(
				new TypeError(
					"the server's signing algorithm list for client authentication must be an array, got string",
				),
			);
		});

		it('throws NoCompatibleKeyError when the server lists nothing', () => {
			expect(() => keyset.negotiate([])).toThrow(NoCompatibleKeyError);
		});

		it('assumes ES256 for a server with no list, so an RSA-only keyset fails', () => {
			const rsaOnly = new Keyset([rs256]);
			let error: unknown;
			try {
				rsaOnly.negotiate();
			} catch (e) {
				error = e;
			}
			expect(error).toBeInstanceOf(NoCompatibleKeyError);
			expect((error as NoCompatibleKeyError).available).toEqual(['RS256']);
			expect((error as NoCompatibleKeyError).supported).toEqual(['ES256']);
		});
	});

	describe('from', () => {
		it('returns a keyset as is', () => {
			const keyset = new Keyset([es256]);
			expect(Keyset.from(keyset)).toBe(keyset);
		});

		it('builds a new keyset from a list of keys', () => {
			const keyset = Keyset.from([es256, rs256]);
			expect(keyset).toBeInstanceOf(Keyset);
			expect(keyset.size).toBe(2);
			expect(keyset.get('rsa-1')).toBe(rs256);
		});

		it('validates the list like the constructor', () => {
			expect(() => Keyset.from([])).toThrow(TypeError);
			expect(() => Keyset.from([es256, es256])).toThrow(TypeError);
		});
	});
});
