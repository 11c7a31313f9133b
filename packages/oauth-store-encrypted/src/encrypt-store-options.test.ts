import { MemoryStore } from '@atcute/oauth-store-memory';
import { describe, expect, it } from 'vitest';

import { encryptStore } from './encrypted-store.ts';
import { generateStoreKey } from './generate-store-key.ts';
import { decodeBase64url } from './internal/base64url.ts';
import { parseStoreKeys } from './parse-store-keys.ts';

const GOOD = generateStoreKey('good');
/** a secret-looking value that must never be echoed: 43 base64url characters of a 33rd-byte mistake. */
const LEAKY = 'c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw-TOPSECRET';
/** a well-formed secret, which is also a well-formed id: only its shape gives it away. */
const SECRET_43 = generateStoreKey('x').secret;

/** a secret as `openssl rand -hex 32` prints it: 64 hex digits, which fit in an id. */
const HEX_64 = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex');

/** the TypeError `fn` throws. */
const typeError = (fn: () => unknown): TypeError => {
	try {
		fn();
	} catch (err) {
		expect(err).toBeInstanceOf(TypeError);
		return err as TypeError;
	}
	throw new Error('expected a TypeError');
};

const open = (keys: unknown, options: object = {}) =>
	encryptStore(new MemoryStore(), { keys: keys as never, ...options });

describe('encryptStore options', () => {
	it.each([
		['allowPlainText', true],
		['cachesize', 0],
		['key', [GOOD]],
	])('refuses an option it does not know (%s), naming it and those it knows', (name, value) => {
		const error = typeError(() => open([GOOD], { [name]: value }));
		expect(error.message).toBe(
			`encryptStore has no option "${name}"; its options are keys, allowPlaintext, cacheSize`,
		);
	});

	it.each([
		// 43 characters that JavaScript would take for an identifier: too long for an option's name
		['a secret', `x${SECRET_43.slice(1).replaceAll('-', '_')}`],
		['a key ring', `a:${SECRET_43}`],
		['a name with a space', 'allow plaintext'],
	])('refuses an option whose name is not an identifier (%s) without repeating it', (_label, name) => {
		const error = typeError(() => open([GOOD], { [name]: true }));
		expect(error.message).toBe(
			'encryptStore was given an option whose name is not an identifier (not repeated here); its options are keys, allowPlaintext, cacheSize',
		);
	});

	it.each([
		['no keys', []],
		['keys that are not an array', GOOD],
		['a key that is not an object', [null]],
		['an id with a space', [{ id: 'my key', secret: GOOD.secret }]],
		['an id longer than 64 characters', [{ id: 'k'.repeat(65), secret: GOOD.secret }]],
		['two keys with one id', [GOOD, { id: 'good', secret: generateStoreKey('x').secret }]],
		['a missing secret', [{ id: 'a' }]],
		['a secret of 31 bytes', [{ id: 'a', secret: GOOD.secret.slice(0, 42) }]],
		['a secret of 33 bytes', [{ id: 'a', secret: `${GOOD.secret}AAA` }]],
		['a secret in standard base64', [{ id: 'a', secret: `${GOOD.secret.slice(0, 42)}+` }]],
		['a padded secret', [{ id: 'a', secret: `${GOOD.secret}=` }]],
		['a hex secret', [{ id: 'a', secret: 'ab'.repeat(32) }]],
		['a placeholder secret of 32 zero bytes', [{ id: 'a', secret: 'A'.repeat(43) }]],
	])('refuses %s with a TypeError naming the option', (_label, keys) => {
		expect(typeError(() => open(keys)).message).toMatch(/^keys/);
	});

	it('refuses a store without every method it will call, naming those it lacks', () => {
		const memory = new MemoryStore();
		const getOnly = { get: (key: string) => memory.get(key) };
		expect(typeError(() => encryptStore(getOnly as never, { keys: [GOOD] })).message).toBe(
			'store must be a Store (get, set, delete, clear); it has no set, delete, clear',
		);
		expect(typeError(() => encryptStore(null as never, { keys: [GOOD] })).message).toMatch(
			/it has no get, set, delete, clear$/,
		);
	});

	it.each([
		['a secret of the wrong length', [{ id: 'a', secret: LEAKY }]],
		['a secret with characters outside base64url', [{ id: 'a', secret: `${LEAKY.slice(0, 40)}+/=` }]],
		['a secret pasted as the id', [{ id: LEAKY, secret: LEAKY }]],
		['a secret pasted as the id of a second key', [GOOD, { id: SECRET_43, secret: SECRET_43 }]],
		['a secret pasted as the id of the first key', [{ id: SECRET_43, secret: GOOD.secret }]],
	])('never echoes the key in its message: %s', (_label, keys) => {
		const { message } = typeError(() => open(keys));
		expect(message).not.toContain(LEAKY);
		expect(message).not.toContain(LEAKY.slice(0, 12));
		expect(message).not.toContain('TOPSECRET');
		expect(message).not.toContain(SECRET_43.slice(0, 12));
	});

	it('refuses one secret under two ids, naming both positions and ids, never the secret', () => {
		const { message } = typeError(() =>
			open([generateStoreKey('first'), { id: 'new', secret: SECRET_43 }, { id: 'old', secret: SECRET_43 }]),
		);
		expect(message).toContain('keys[2] (id "old")');
		expect(message).toContain('keys[1] (id "new")');
		expect(message).toContain('same secret');
		expect(message).not.toContain(SECRET_43.slice(0, 12));
	});

	it('says what is wrong with a secret: its length in bytes', () => {
		expect(typeError(() => open([{ id: 'a', secret: GOOD.secret.slice(0, 40) }])).message).toContain(
			'got 30 bytes',
		);
	});

	it.each([
		['cacheSize', { cacheSize: -1 }],
		['cacheSize', { cacheSize: 1.5 }],
		['allowPlaintext', { allowPlaintext: 'yes' }],
	])('refuses a bad %s', (name, options) => {
		expect(typeError(() => open([GOOD], options)).message).toContain(name);
	});

	it.each([
		[-1, 'a negative number'],
		[1.5, 'a number that is not an integer'],
		[Number.NaN, 'a number that is not an integer'],
		[LEAKY, 'a string'],
		[{ secret: LEAKY }, 'an object'],
	])('says what is wrong with cacheSize %#, never its value', (cacheSize, got) => {
		expect(typeError(() => open([GOOD], { cacheSize })).message).toBe(
			`cacheSize must be a non-negative integer, got ${got}`,
		);
	});

	it('refuses something that is not a store', () => {
		expect(typeError(() => encryptStore({} as never, { keys: [GOOD] })).message).toContain('store');
	});

	it('takes a key ring whose first key encrypts', () => {
		expect(open([GOOD, generateStoreKey('old')]).primaryKeyId).toBe('good');
	});
});

describe('generateStoreKey', () => {
	it('gives 32 random bytes as 43 base64url characters, different each time', () => {
		const keys = Array.from({ length: 20 }, () => generateStoreKey('k'));
		for (const { id, secret } of keys) {
			expect(id).toBe('k');
			expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
			expect(decodeBase64url(secret)?.length).toBe(32);
		}
		expect(new Set(keys.map((key) => key.secret)).size).toBe(20);
	});

	it('refuses an id the ring would refuse', () => {
		expect(() => generateStoreKey('a:b')).toThrow(TypeError);
	});

	it('refuses an id shaped like a secret, as the ring does, without repeating it', () => {
		const { message } = typeError(() => generateStoreKey(SECRET_43));
		expect(message).toContain('looks like a secret');
		expect(message).not.toContain(SECRET_43.slice(0, 12));
	});

	it.each([
		['hex of 32 bytes (openssl rand -hex 32)', HEX_64, 'hex'],
		['hex of 32 bytes, upper case', HEX_64.toUpperCase(), 'hex'],
	])('refuses an id that is %s, without repeating it', (_label, id, shape) => {
		const { message } = typeError(() => generateStoreKey(id));
		expect(message).toContain(`looks like a secret (${shape} of 32 bytes or more)`);
		expect(message).not.toContain(id.slice(0, 12));
	});

	it('takes the ids generate-key makes, and other short ones', () => {
		// up to 42 characters of base64url (31 bytes), and any id with a "." (not base64url), 64 at most
		const longest = 'session-store-key-of-2026-12-03-rotated-ab';
		// readable ids longer than a secret, which base64url decodes all the same
		const readable = ['production-session-encryption-key-2024-01-01', `oauth-${'sessions-'.repeat(6)}key`];
		for (const id of ['key-20261203-3fa9c1', 'prod.2026-12', longest, `k.${'a'.repeat(62)}`, ...readable]) {
			expect(generateStoreKey(id).id).toBe(id);
		}
	});
});

describe('parseStoreKeys', () => {
	it('reads "id:secret,id:secret" in order, trimming spaces and newlines', () => {
		const a = generateStoreKey('a');
		const b = generateStoreKey('b');
		expect(parseStoreKeys(` b:${b.secret} ,\n a:${a.secret}\n`)).toEqual([b, a]);
	});

	it.each([
		['nothing', undefined],
		['an empty string', '  '],
		['an entry without an id', `:${LEAKY}`],
		['an entry without a colon', LEAKY],
		['an empty entry', `a:${LEAKY},,`],
	])('refuses %s without echoing it', (_label, text) => {
		const { message } = typeError(() => parseStoreKeys(text, 'OAUTH_STORE_KEYS'));
		expect(message).toContain('OAUTH_STORE_KEYS');
		expect(message).not.toContain(LEAKY.slice(0, 12));
	});

	it('leaves ids to the key ring, which refuses one shaped like a secret, naming the variable', () => {
		for (const id of [HEX_64, SECRET_43]) {
			const keys = parseStoreKeys(`${id}:${GOOD.secret}`, 'OAUTH_STORE_KEYS');
			const { message } = typeError(() => open(keys));
			expect(message).toMatch(/^OAUTH_STORE_KEYS\[0\]\.id looks like a secret/);
			expect(message).not.toContain(id.slice(0, 12));
		}
	});

	it('numbers entries as the key ring does, which names the variable too', () => {
		const text = (second: string) => `a:${GOOD.secret},${second}`;
		expect(typeError(() => parseStoreKeys(text('b'), 'OAUTH_STORE_KEYS')).message).toBe(
			'OAUTH_STORE_KEYS[1] is not "id:secret"',
		);
		const keys = parseStoreKeys(text('b:tooShort'), 'OAUTH_STORE_KEYS');
		expect(typeError(() => open(keys)).message).toMatch(/^OAUTH_STORE_KEYS\[1\]\.secret must be /);
		// keys given as an option keep the option's name
		expect(typeError(() => open([...keys])).message).toMatch(/^keys\[1\]\.secret must be /);
	});
});
