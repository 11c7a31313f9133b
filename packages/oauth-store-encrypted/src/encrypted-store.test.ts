import type { Store } from '@atcute/oauth-client';
import { MemoryStore } from '@atcute/oauth-store-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { encryptStore } from './encrypted-store.ts';
import { StoreDecryptionError } from './errors.ts';
import { generateStoreKey } from './generate-store-key.ts';
import { KEY_A, KEY_B, SECRETS, session, type TestSession, tamper } from './internal/test-fixtures.ts';

const DID = 'did:plc:alice000000000000000000';

/** a memory store and the wrapper over it. */
const setup = (keys = [KEY_A], options: { allowPlaintext?: boolean; cacheSize?: number } = {}) => {
	const inner = new MemoryStore<string, unknown>();
	return { inner, store: encryptStore(inner, { keys, ...options }) };
};

/** the rejection of `promise`, which must reject. */
const rejection = async (promise: Promise<unknown>): Promise<StoreDecryptionError> => {
	const error = await promise.then(
		() => undefined,
		(err: unknown) => err,
	);
	expect(error).toBeInstanceOf(StoreDecryptionError);
	return error as StoreDecryptionError;
};

afterEach(() => vi.restoreAllMocks());

describe('encryptStore', () => {
	it('draws a fresh IV for every write, so equal values never give equal entries', async () => {
		const { inner, store } = setup();
		await store.set('a', session());
		const first = inner.get('a') as { iv: string; ct: string };
		await store.set('a', session());
		const second = inner.get('a') as { iv: string; ct: string };
		expect(second.iv).not.toBe(first.iv);
		expect(second.ct).not.toBe(first.ct);
	});

	it('keeps expiresAt on the wrapped store and in the envelope', async () => {
		const { inner, store } = setup();
		const expiresAt = Date.now() + 60_000;
		await store.set('state', { verifier: 'v' }, { expiresAt });
		expect(inner.get('state')).toMatchObject({ exp: expiresAt });
	});

	it('keeps no expiry in the envelope for an expiresAt that is not finite', async () => {
		const { inner, store } = setup();
		await store.set('a', { n: 1 }, { expiresAt: Number.POSITIVE_INFINITY });
		expect(inner.get('a')).not.toHaveProperty('exp');
		// and a JSON round trip, as SQLite and Redis make, still reads
		inner.set('a', JSON.parse(JSON.stringify(inner.get('a'))));
		expect(await encryptStore(inner, { keys: [KEY_A] }).get('a')).toEqual({ n: 1 });
	});

	it('names the entry and the key id of an entry whose key is not in the ring, and keeps it', async () => {
		const { inner, store } = setup([KEY_A]);
		await store.set(DID, session());
		const retired = encryptStore(inner, { keys: [KEY_B] });
		const error = await rejection(retired.get(DID));
		expect(error).toMatchObject({
			name: 'StoreDecryptionError',
			code: 'unknown_key',
			entryKey: DID,
			keyId: 'key-a',
		});
		expect(error.message).toContain(DID);
		expect(error.message).toContain('"key-a"');
		expect(inner.get(DID)).toBeDefined();
	});

	it('refuses an entry under a known key id but another secret', async () => {
		const { inner, store } = setup([KEY_A]);
		await store.set(DID, session());
		const impostor = encryptStore(inner, { keys: [generateStoreKey('key-a')] });
		expect(await rejection(impostor.get(DID))).toMatchObject({
			code: 'authentication_failed',
			keyId: 'key-a',
		});
	});

	it('authenticates the key id: an entry relabelled with another key of the ring does not decrypt', async () => {
		const { inner, store } = setup([KEY_A]);
		await store.set(DID, session());
		// the same secret under another id (a ring refuses both in one ring, so another deployment's):
		// only the key id in the authenticated data tells them apart
		const twin = encryptStore(inner, { keys: [{ id: 'key-twin', secret: KEY_A.secret }] });
		inner.set(DID, { ...(inner.get(DID) as object), kid: 'key-twin' });
		expect(await rejection(twin.get(DID))).toMatchObject({
			code: 'authentication_failed',
			keyId: 'key-twin',
		});
	});

	it('refuses, as malformed, a key id the ring could not hold, without naming it', async () => {
		const { inner, store } = setup([KEY_A]);
		await store.set(DID, session());
		inner.set(DID, { ...(inner.get(DID) as object), kid: 'not a key id!' });
		const error = await rejection(store.get(DID));
		expect(error).toMatchObject({ code: 'malformed', keyId: undefined });
		expect(error.message).not.toContain('not a key id!');
		expect(await rejection(store.keyIdOf(DID))).toMatchObject({ code: 'malformed' });
	});

	it('authenticates the expiry: an entry whose exp was changed does not decrypt', async () => {
		const { inner, store } = setup();
		await store.set('state', { verifier: 'v' }, { expiresAt: Date.now() + 60_000 });
		inner.set('state', { ...(inner.get('state') as object), exp: Date.now() + 3_600_000 });
		expect(await rejection(store.get('state'))).toMatchObject({ code: 'authentication_failed' });
	});

	it.each([
		['a newer format version', { v: 2 }, 'unsupported_version'],
		['a format version that is not a number', { v: '1' }, 'malformed'],
		['an IV of the wrong length', { iv: 'AAAA' }, 'malformed'],
		['an IV that is not base64url', { iv: '!!!!!!!!!!!!!!!!' }, 'malformed'],
		['a key id that is not a string', { kid: 7 }, 'malformed'],
		['a ciphertext shorter than the tag', { ct: 'AAAA' }, 'malformed'],
	] as const)('reports an envelope with %s as %s', async (_label, change, code) => {
		const { inner, store } = setup();
		await store.set(DID, session());
		inner.set(DID, { ...(inner.get(DID) as object), ...change });
		expect(await rejection(store.get(DID))).toMatchObject({ code, entryKey: DID });
	});

	it.each(['v', 'kid', 'iv', 'ct'])(
		'reports an envelope without %s as malformed, even with allowPlaintext, and keeps it',
		async (field) => {
			const { inner, store } = setup([KEY_A], { allowPlaintext: true });
			await store.set(DID, session());
			const damaged: Record<string, unknown> = { ...(inner.get(DID) as object) };
			delete damaged[field];
			inner.set(DID, damaged);
			// never handed out as a plaintext value (nor rewrapped as one, which would bury it)
			expect(await rejection(store.get(DID))).toMatchObject({ code: 'malformed', entryKey: DID });
			expect(await rejection(store.keyIdOf(DID))).toMatchObject({ code: 'malformed' });
			const report = await store.rewrap([DID], { dryRun: true });
			expect(report.failed).toMatchObject([{ key: DID, error: { code: 'malformed' } }]);
			expect(inner.get(DID)).toEqual(damaged);
		},
	);

	it('puts no secret and no part of the value in its errors', async () => {
		const { inner, store } = setup();
		await store.set(DID, session());
		const envelope = inner.get(DID) as { ct: string };
		inner.set(DID, { ...envelope, ct: tamper(envelope.ct) });
		const error = await rejection(store.get(DID));
		const text = `${error.message} ${String(error.cause)} ${JSON.stringify(error)}`;
		for (const secret of [...Object.values(SECRETS), KEY_A.secret, envelope.ct])
			expect(text).not.toContain(secret);
	});

	describe('plaintext entries (written before the wrapper)', () => {
		it('refuses them by default, naming the entry, and keeps them', async () => {
			const { inner, store } = setup();
			inner.set(DID, session());
			expect(await rejection(store.get(DID))).toMatchObject({
				code: 'plaintext',
				entryKey: DID,
				keyId: undefined,
			});
			expect(inner.get(DID)).toEqual(session());
		});

		it('reads them with allowPlaintext, and encrypts them on their next write', async () => {
			const { inner, store } = setup([KEY_A], { allowPlaintext: true });
			inner.set(DID, session());
			expect(await store.get(DID)).toEqual(session());
			expect(await store.keyIdOf(DID)).toBeNull();
			await store.set(DID, (await store.get(DID))!);
			expect(await store.keyIdOf(DID)).toBe('key-a');
			expect(JSON.stringify(inner.get(DID))).not.toContain(SECRETS.refreshToken);
		});

		it('hands out a copy of a plaintext entry, as of an encrypted one', async () => {
			const { inner, store } = setup([KEY_A], { allowPlaintext: true });
			inner.set(DID, session());
			const read = (await store.get(DID))! as { tokenSet: { access_token: string } };
			read.tokenSet.access_token = 'changed by the caller';
			expect(await store.get(DID)).toEqual(session());
			expect(inner.get(DID)).toEqual(session());
		});
	});

	describe('take', () => {
		it('is there only when the wrapped store has it', () => {
			expect(encryptStore(storeMethods(new MemoryStore()), { keys: [KEY_A] }).take).toBeUndefined();
			expect(typeof setup().store.take).toBe('function');
		});

		it("is not even a property without the wrapped store's, so `'take' in store` tells", () => {
			const without = encryptStore(storeMethods(new MemoryStore()), { keys: [KEY_A] });
			expect('take' in without).toBe(false);
			expect(Object.keys(without)).not.toContain('take');
			expect('take' in setup().store).toBe(true);
		});

		it('keeps, with its expiry, an entry it could not decrypt', async () => {
			const { inner, store } = setup();
			const expiresAt = Date.now() + 60_000;
			await store.set('state', { verifier: 'v' }, { expiresAt });
			const written = inner.get('state');
			const retired = encryptStore(inner, { keys: [KEY_B] });
			expect(await rejection(retired.take!('state'))).toMatchObject({ code: 'unknown_key' });
			expect(inner.get('state')).toEqual(written);
			expect(await store.take!('state')).toEqual({ verifier: 'v' });
			expect(inner.get('state')).toBeUndefined();
		});
	});

	describe('over a store that answers null for a missing entry (as ioredis and pg do)', () => {
		/** a memory store whose reads answer null, not undefined, for what it does not hold. */
		const nullAnswering = () => {
			const inner = new MemoryStore<string, unknown>();
			const store: Store = {
				...storeMethods(inner),
				get: (key) => inner.get(key) ?? (null as never),
				take: async (key) => inner.take(key) ?? (null as never),
			};
			return { inner, store };
		};

		it('reads a missing entry as none, as the OAuth client reads null', async () => {
			const { store } = nullAnswering();
			const encrypted = encryptStore(store, { keys: [KEY_A] });
			expect(await encrypted.get('missing')).toBeUndefined();
			expect(await encrypted.take!('missing')).toBeUndefined();
			expect(await encrypted.keyIdOf('missing')).toBeUndefined();
			await encrypted.set('there', { verifier: 'v' });
			expect(await encrypted.keyIdOf('there')).toBe(KEY_A.id);
			expect(await encrypted.take!('there')).toEqual({ verifier: 'v' });
		});

		it('counts a missing entry as missing at a rewrap, and writes nothing for it', async () => {
			const { inner, store } = nullAnswering();
			const encrypted = encryptStore(store, { keys: [KEY_A], allowPlaintext: true });
			const report = await encrypted.rewrap(['missing'], { lock: (_name, fn) => fn() });
			expect(report).toMatchObject({ missing: 1, rewrapped: 0 });
			expect(inner.get('missing')).toBeUndefined();
		});
	});

	describe('the decryption cache', () => {
		it('decrypts an unchanged entry once, and again once another writer changed it', async () => {
			const { inner, store } = setup();
			await store.set(DID, session());
			const decrypt = vi.spyOn(crypto.subtle, 'decrypt');
			for (let i = 0; i < 5; i++) expect(await store.get(DID)).toEqual(session());
			expect(decrypt).toHaveBeenCalledTimes(0);

			// another process writes the entry
			const other = encryptStore(inner, { keys: [KEY_A] });
			await other.set(DID, { changed: true });
			expect(await store.get(DID)).toEqual({ changed: true });
			expect(decrypt).toHaveBeenCalledTimes(1);
		});

		it('never serves a cached value for a tampered or deleted entry', async () => {
			const { inner, store } = setup();
			await store.set(DID, session());
			await store.get(DID);
			const envelope = inner.get(DID) as { ct: string };
			inner.set(DID, { ...envelope, ct: tamper(envelope.ct) });
			expect(await rejection(store.get(DID))).toMatchObject({ code: 'authentication_failed' });
			inner.delete(DID);
			expect(await store.get(DID)).toBeUndefined();
		});

		it('decrypts every read with cacheSize 0', async () => {
			const { store } = setup([KEY_A], { cacheSize: 0 });
			await store.set(DID, session());
			const decrypt = vi.spyOn(crypto.subtle, 'decrypt');
			await store.get(DID);
			await store.get(DID);
			expect(decrypt).toHaveBeenCalledTimes(2);
		});

		it('hands out a fresh object on every read', async () => {
			const { store } = setup();
			await store.set(DID, session());
			const first = (await store.get(DID)) as TestSession;
			first.tokenSet.access_token = 'mutated';
			expect(((await store.get(DID)) as TestSession).tokenSet.access_token).toBe(SECRETS.accessToken);
		});
	});
});

/** the four required methods of a store, bound, without take. */
const storeMethods = (store: MemoryStore): Store => ({
	get: (key) => store.get(key),
	set: (key, value, options) => store.set(key, value, options),
	delete: (key) => store.delete(key),
	clear: () => store.clear(),
});
