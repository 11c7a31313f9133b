import type { Did } from '@atcute/lexicons';
import {
	createMemoryLock,
	type LockFunction,
	OAuthClient,
	type SessionStore,
	type Store,
	type StoredSession,
} from '@atcute/oauth-client';
import { MemoryStore } from '@atcute/oauth-store-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { encryptStore } from './encrypted-store.ts';
import { RewrapAbortedError, StoreDecryptionError } from './errors.ts';
import { KEY_A, KEY_B, session, type TestSession, tamper } from './internal/test-fixtures.ts';

const dids = Array.from({ length: 6 }, (_, i) => `did:plc:user${i}` as Did);

/** a lock that records the names it was asked for. */
const recordingLock = (): { lock: LockFunction; names: string[] } => {
	const inner = createMemoryLock();
	const names: string[] = [];
	const lock: LockFunction = (name, fn) => {
		names.push(name);
		return inner(name, fn);
	};
	return { names, lock };
};

/** a memory store with dids[0..3] under key-a (dids[3] with an expiry), dids[4] in plaintext, dids[5] absent. */
const populated = async () => {
	const inner = new MemoryStore<string, unknown>();
	const old = encryptStore(inner, { keys: [KEY_A] });
	for (const did of dids.slice(0, 4))
		await old.set(did, session(did), did === dids[3] ? { expiresAt: Date.now() + 60_000 } : undefined);
	inner.set(dids[4]!, session(dids[4]));
	return inner;
};

afterEach(() => vi.restoreAllMocks());

describe('EncryptedStore.rewrap', () => {
	it('counts the entries under each key without writing on a dry run', async () => {
		const inner = await populated();
		const before = JSON.stringify([...dids].map((did) => inner.get(did)));
		const store = encryptStore(inner, { keys: [KEY_B, KEY_A], allowPlaintext: true });
		const report = await store.rewrap(dids, { dryRun: true });
		expect(report).toEqual({
			checked: 6,
			missing: 1,
			byKeyId: { 'key-a': 4 },
			plaintext: 1,
			expiring: 1,
			rewrapped: 0,
			failed: [],
		});
		expect(JSON.stringify([...dids].map((did) => inner.get(did)))).toBe(before);
	});

	it('rewrites older entries under the first key inside the lock, keeping their values', async () => {
		const inner = await populated();
		const store = encryptStore(inner, { keys: [KEY_B, KEY_A], allowPlaintext: true });
		const { lock, names } = recordingLock();
		const state = inner.get(dids[3]!);
		const report = await store.rewrap(dids, { lock });
		expect(report).toMatchObject({
			checked: 6,
			missing: 1,
			byKeyId: { 'key-a': 4 },
			plaintext: 1,
			expiring: 1,
			rewrapped: 4,
		});
		expect(names).toEqual(dids.map((did) => `oauth-session-${did}`));
		// the entry with an expiry is left as it was, under key-a
		expect(inner.get(dids[3]!)).toBe(state);

		// key-a can be retired once that entry has expired: the rest reads with key-b alone
		const retired = encryptStore(inner, { keys: [KEY_B] });
		expect(await retired.rewrap(dids, { dryRun: true })).toMatchObject({
			byKeyId: { 'key-b': 4, 'key-a': 1 },
			plaintext: 0,
			expiring: 1,
		});
		for (const did of [...dids.slice(0, 3), dids[4]!]) expect(await retired.get(did)).toEqual(session(did));
	});

	it('never rewrites an entry with an expiry (a state): counts it as expiring and leaves it, unread', async () => {
		let now = 1_767_225_600_000;
		const expiresAt = now + 600_000;
		const inner = new MemoryStore<string, unknown>({ now: () => now });
		// a state written before encryption (the client stores its expiresAt in it too), and one under key-a
		inner.set('plain', { verifier: 'v', expiresAt }, { expiresAt });
		await encryptStore(inner, { keys: [KEY_A] }).set('old', { verifier: 'v', expiresAt }, { expiresAt });
		const before = [inner.get('plain'), inner.get('old')];

		const store = encryptStore(inner, { keys: [KEY_B, KEY_A], allowPlaintext: true });
		const decrypt = vi.spyOn(crypto.subtle, 'decrypt');
		expect(await store.rewrap(['plain', 'old'], { lock: createMemoryLock() })).toEqual({
			checked: 2,
			missing: 0,
			byKeyId: { 'key-a': 1 },
			plaintext: 1,
			expiring: 2,
			rewrapped: 0,
			failed: [],
		});
		expect(decrypt).not.toHaveBeenCalled();
		expect([inner.get('plain'), inner.get('old')]).toEqual(before);
		expect(await store.keyIdOf('plain')).toBeNull();
		expect(await store.keyIdOf('old')).toBe('key-a');

		now = expiresAt + 1;
		expect(inner.get('plain')).toBeUndefined();
		expect(inner.get('old')).toBeUndefined();
	});

	it('never puts back a state the callback took while the rewrap was reading it', async () => {
		const memory = new MemoryStore<string, unknown>();
		/** runs once, after the rewrap's read and before it could write: the callback's take. */
		let between: (() => Promise<void>) | undefined;
		const inner: Store<string, unknown> = {
			get: async (key) => {
				const value = memory.get(key);
				const run = between;
				between = undefined;
				await run?.();
				return value;
			},
			set: (key, value, options) => memory.set(key, value, options),
			delete: (key) => memory.delete(key),
			clear: () => memory.clear(),
			take: (key) => memory.take(key),
		};
		const state = { issuer: 'https://bsky.social', verifier: 'v', expiresAt: Date.now() + 600_000 };
		await encryptStore(inner, { keys: [KEY_A] }).set('state-1', state, { expiresAt: state.expiresAt });

		const states = encryptStore(inner, { keys: [KEY_B, KEY_A] });
		let taken: unknown;
		// the OAuth callback takes its state without a lock
		between = async () => {
			taken = await states.take!('state-1');
		};
		const report = await states.rewrap(['state-1'], { lock: createMemoryLock() });
		expect(taken).toEqual(state);
		expect(report).toMatchObject({ byKeyId: { 'key-a': 1 }, expiring: 1, rewrapped: 0 });
		// single use: a replayed callback finds nothing
		expect(await states.take!('state-1')).toBeUndefined();
		expect(memory.get('state-1')).toBeUndefined();
	});

	it("stops, writing nothing, once the lock's hold is lost: a session another holder refreshed meanwhile stands", async () => {
		const memory = new MemoryStore<string, unknown>();
		const did = dids[0]!;
		await encryptStore(memory, { keys: [KEY_A] }).set(did, session(did));
		const refreshed = { ...session(did), refreshed: true };
		const lost = new AbortController();
		// the rewrap's read is slow: meanwhile its lease runs out, and another process takes the
		// lock and stores the session it refreshed
		const inner: Store<string, unknown> = {
			get: async (key) => {
				const value = memory.get(key);
				lost.abort(new Error('lease ran out'));
				await encryptStore(memory, { keys: [KEY_B, KEY_A] }).set(did, refreshed);
				return value;
			},
			set: (key, value, options) => memory.set(key, value, options),
			delete: (key) => memory.delete(key),
			clear: () => memory.clear(),
		};
		// a distributed lock, as LockFunction describes it: `lost` aborts once the hold is lost
		const lock: LockFunction = (_name, fn) => fn(lost.signal);

		const store = encryptStore(inner, { keys: [KEY_B, KEY_A] });
		const error = await store.rewrap([did], { lock }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(RewrapAbortedError);
		expect(error).toMatchObject({ key: did, transient: true, report: { rewrapped: 0 } });
		expect((error as Error).message).toContain('the lock was lost before the entry was rewritten');
		// the refreshed session, not the one read before it, whose refresh token is spent
		expect(await encryptStore(memory, { keys: [KEY_B, KEY_A] }).get(did)).toEqual(refreshed);
	});

	it('decrypts every entry on a dry run, and lists each it cannot read; a run that writes reads only what it rewrites', async () => {
		const inner = await populated();
		const store = encryptStore(inner, { keys: [KEY_B, KEY_A] });
		// one under the primary key, one with an expiry: both tampered with
		await store.set('did:plc:primary', session('did:plc:primary'));
		await encryptStore(inner, { keys: [KEY_A] }).set(
			'state',
			{ verifier: 'v' },
			{ expiresAt: Date.now() + 60_000 },
		);
		for (const key of ['did:plc:primary', 'state']) {
			const envelope = inner.get(key) as { ct: string };
			inner.set(
				key,
				{ ...envelope, ct: tamper(envelope.ct) },
				key === 'state' ? { expiresAt: Date.now() + 60_000 } : undefined,
			);
		}
		const keys = [...dids, 'did:plc:primary', 'state'];

		const checked = await store.rewrap(keys, { dryRun: true });
		expect(checked.failed.map(({ key, error }) => [key, error.code])).toEqual([
			[dids[4], 'plaintext'],
			['did:plc:primary', 'authentication_failed'],
			['state', 'authentication_failed'],
		]);
		expect(checked).toMatchObject({ byKeyId: { 'key-a': 5, 'key-b': 1 }, expiring: 2, rewrapped: 0 });

		const written = await store.rewrap(keys, { lock: createMemoryLock() });
		expect(written.failed.map(({ key, error }) => [key, error.code])).toEqual([[dids[4], 'plaintext']]);
		expect(written.rewrapped).toBe(3);
	});

	it('counts a stored key id such as __proto__ or constructor like any other', async () => {
		const inner = new MemoryStore<string, unknown>();
		const store = encryptStore(inner, { keys: [KEY_B] });
		for (const [key, kid] of [
			['did:plc:x', '__proto__'],
			['did:plc:y', 'constructor'],
			['did:plc:z', 'constructor'],
		] as const) {
			await store.set(key, { n: 1 });
			inner.set(key, { ...(inner.get(key) as object), kid });
		}
		const report = await store.rewrap(['did:plc:x', 'did:plc:y', 'did:plc:z'], { dryRun: true });
		expect(Object.getPrototypeOf(report.byKeyId)).toBeNull();
		expect(Object.entries(report.byKeyId)).toEqual([
			['__proto__', 1],
			['constructor', 2],
		]);
		expect(report.failed.map(({ error }) => error.code)).toEqual([
			'unknown_key',
			'unknown_key',
			'unknown_key',
		]);
	});

	it('reports entries it cannot decrypt and leaves them as they are', async () => {
		const inner = await populated();
		const store = encryptStore(inner, { keys: [KEY_B] });
		const before = inner.get(dids[0]!);
		const report = await store.rewrap(dids, { lock: createMemoryLock() });
		expect(report.rewrapped).toBe(0);
		// dids[3] has an expiry: never rewritten, so never read
		expect(report.failed.map(({ key, error }) => [key, error.code])).toEqual([
			...dids.slice(0, 3).map((did) => [did, 'unknown_key']),
			[dids[4], 'plaintext'],
		]);
		expect(report.failed[0]!.error).toBeInstanceOf(StoreDecryptionError);
		expect(inner.get(dids[0]!)).toBe(before);
	});

	it('requires the lock unless it is a dry run', async () => {
		const store = encryptStore(new MemoryStore(), { keys: [KEY_A] });
		await expect(store.rewrap(dids)).rejects.toThrow(/lock is required/);
	});

	it('locks each entry under the very name the OAuthClient refreshes and signs out under', async () => {
		const { lock, names } = recordingLock();
		const sessions = encryptStore<Did, StoredSession>(new MemoryStore(), {
			keys: [KEY_A],
		});
		const oauth = new OAuthClient({
			metadata: { redirect_uris: ['http://127.0.0.1/cb'], scope: 'atproto' },
			stores: { sessions, states: new MemoryStore() },
			requestLock: lock,
			actorResolver: { resolve: async () => ({}) as never },
		});
		await oauth.revoke(dids[0]!);
		await sessions.rewrap([dids[0]!], { lock });
		expect(names).toHaveLength(2);
		expect(names[1]).toBe(names[0]);
	});
});

describe('encryptStore under an OAuthClient', () => {
	const client = (sessions: SessionStore) =>
		new OAuthClient({
			metadata: { redirect_uris: ['http://127.0.0.1/cb'], scope: 'atproto' },
			stores: { sessions, states: new MemoryStore() },
			actorResolver: { resolve: async () => ({}) as never },
		});

	it('restores a session through the wrapper', async () => {
		const sessions = encryptStore<Did, TestSession>(new MemoryStore(), { keys: [KEY_A] });
		const did = dids[0]!;
		await sessions.set(did, {
			...session(did, 'none'),
			tokenSet: { ...session(did).tokenSet, expires_at: Date.now() + 3_600_000 },
		});
		const restored = await client(sessions as unknown as SessionStore).restore(did);
		expect(restored.did).toBe(did);
	});

	it('fails restore() with the decryption error and keeps the session', async () => {
		const inner = new MemoryStore<string, unknown>();
		const did = dids[0]!;
		await encryptStore(inner, { keys: [KEY_A] }).set(did, session(did, 'none'));
		const sessions = encryptStore(inner, { keys: [KEY_B] }) as unknown as SessionStore;
		await expect(client(sessions).restore(did)).rejects.toMatchObject({
			name: 'StoreDecryptionError',
			code: 'unknown_key',
			entryKey: did,
		});
		expect(inner.get(did)).toBeDefined();
	});
});
