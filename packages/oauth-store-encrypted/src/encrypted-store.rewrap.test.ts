import type { Did } from '@atcute/lexicons';
import {
	createMemoryLock,
	type LockFunction,
	OAuthClient,
	type SessionStore,
	type StoredSession,
} from '@atcute/oauth-client';
import { MemoryStore } from '@atcute/oauth-store-memory';
import { describe, expect, it } from 'vitest';

import { encryptStore } from './encrypted-store.ts';
import { StoreDecryptionError } from './errors.ts';
import { KEY_A, KEY_B, session, type TestSession } from './internal/test-fixtures.ts';

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

/** a memory store with dids[0..3] under key-a, dids[4] in plaintext, dids[5] absent. */
const populated = async () => {
	const inner = new MemoryStore<string, unknown>();
	const old = encryptStore(inner, { keys: [KEY_A] });
	for (const did of dids.slice(0, 4))
		await old.set(did, session(did), did === dids[3] ? { expiresAt: Date.now() + 60_000 } : undefined);
	inner.set(dids[4]!, session(dids[4]));
	return inner;
};

describe('EncryptedStore.rewrap', () => {
	it('counts the entries under each key without writing on a dry run', async () => {
		const inner = await populated();
		const before = JSON.stringify([...dids].map((did) => inner.get(did)));
		const store = encryptStore(inner, { keys: [KEY_B, KEY_A] });
		const report = await store.rewrap(dids, { dryRun: true });
		expect(report).toEqual({
			checked: 6,
			missing: 1,
			byKeyId: { 'key-a': 4 },
			plaintext: 1,
			rewrapped: 0,
			failed: [],
		});
		expect(JSON.stringify([...dids].map((did) => inner.get(did)))).toBe(before);
	});

	it('rewrites older entries under the first key inside the lock, keeping their values and expiry', async () => {
		const inner = await populated();
		const store = encryptStore(inner, { keys: [KEY_B, KEY_A], allowPlaintext: true });
		const { lock, names } = recordingLock();
		const report = await store.rewrap(dids, { lock });
		expect(report).toMatchObject({
			checked: 6,
			missing: 1,
			byKeyId: { 'key-a': 4 },
			plaintext: 1,
			rewrapped: 5,
		});
		expect(names).toEqual(dids.map((did) => `oauth-session:${did}`));
		expect((inner.get(dids[3]!) as { exp?: number }).exp).toBeGreaterThan(Date.now());

		// key-a can now be retired: everything reads with key-b alone
		const retired = encryptStore(inner, { keys: [KEY_B] });
		expect(await retired.rewrap(dids, { dryRun: true })).toMatchObject({
			byKeyId: { 'key-b': 5 },
			plaintext: 0,
		});
		for (const did of dids.slice(0, 5)) expect(await retired.get(did)).toEqual(session(did));
	});

	it('keeps the expiry of the plaintext and older-key states it rewraps', async () => {
		let now = 1_767_225_600_000;
		const expiresAt = now + 600_000;
		const inner = new MemoryStore<string, unknown>({ now: () => now });
		// a state written before encryption (the client stores its expiresAt in it too), and one under key-a
		inner.set('plain', { verifier: 'v', expiresAt }, { expiresAt });
		await encryptStore(inner, { keys: [KEY_A] }).set('old', { verifier: 'v', expiresAt }, { expiresAt });

		const store = encryptStore(inner, { keys: [KEY_B, KEY_A], allowPlaintext: true });
		expect(await store.rewrap(['plain', 'old'], { lock: createMemoryLock() })).toMatchObject({
			plaintext: 1,
			rewrapped: 2,
		});
		expect(await store.keyIdOf('plain')).toBe('key-b');
		expect(await store.get('plain')).toEqual({ verifier: 'v', expiresAt });

		now = expiresAt + 1;
		expect(inner.get('plain')).toBeUndefined();
		expect(inner.get('old')).toBeUndefined();
	});

	it('reports entries it cannot decrypt and leaves them as they are', async () => {
		const inner = await populated();
		const store = encryptStore(inner, { keys: [KEY_B] });
		const before = inner.get(dids[0]!);
		const report = await store.rewrap(dids, { lock: createMemoryLock() });
		expect(report.rewrapped).toBe(0);
		expect(report.failed.map(({ key, error }) => [key, error.code])).toEqual([
			...dids.slice(0, 4).map((did) => [did, 'unknown_key']),
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
