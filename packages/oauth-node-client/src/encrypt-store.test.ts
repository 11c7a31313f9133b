// the documented encryption-at-rest setup (README "Encryption at rest"), through the facade
import type { Did } from '@atcute/lexicons';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import {
	encryptStore,
	generatePrivateKey,
	generateStoreKey,
	MemoryStore,
	type OAuthClientStores,
	parseStoreKeys,
	StoreDecryptionError,
	type StoredSession,
	type StoredState,
} from './index.ts';
import { createTestServerClient } from './test-utils/test-server-client.ts';

describe('documented encryption at rest', () => {
	it('reads the key ring from an environment variable and wraps both stores', async () => {
		const next = generateStoreKey('key-2');
		const current = generateStoreKey('key-1');
		const env = { OAUTH_STORE_KEYS: `${next.id}:${next.secret},${current.id}:${current.secret}` };

		const keys = parseStoreKeys(env.OAUTH_STORE_KEYS, 'OAUTH_STORE_KEYS');
		// typed, since it is also read directly below
		const sessionsInner = new MemoryStore<`did:${string}:${string}`, StoredSession>();
		const stores: OAuthClientStores = {
			sessions: encryptStore(sessionsInner, { keys }),
			states: encryptStore(new MemoryStore({ maxSize: 10_000 }), { keys }),
		};

		await stores.states.set('state-1', { verifier: 'v' } as never, { expiresAt: Date.now() + 60_000 });
		expect(await stores.states.take?.('state-1')).toEqual({ verifier: 'v' });

		const did = 'did:plc:alice' as const;
		await stores.sessions.set(did, { tokenSet: { refresh_token: 'secret-refresh' } } as never);
		expect(JSON.stringify(sessionsInner.get(did))).not.toContain('secret-refresh');
		expect(sessionsInner.get(did)).toMatchObject({ v: 1, kid: 'key-2' });

		// another deployment without key-2 is told which key it lacks
		const old = encryptStore(sessionsInner, { keys: [current] });
		await expect(old.get(did)).rejects.toBeInstanceOf(StoreDecryptionError);
	});
});

describe('signing out an encrypted session the process cannot decrypt', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	beforeAll(async () => {
		server = await startTestOAuthServer();
		alice = server.createAccount({ handle: 'alice.test' }) as { did: Did; handle: string };
	});
	afterAll(() => server.close());

	it('deletes it with oauth.revoke(did), though its key is not in this ring', async () => {
		const next = generateStoreKey('key-2');
		const current = generateStoreKey('key-1');
		const sessionsInner = new MemoryStore<Did, StoredSession>();
		const states = new MemoryStore<string, StoredState>();
		const key = await generatePrivateKey('main');
		const oauth = await createTestServerClient(server, {
			keyset: [key],
			stores: { sessions: encryptStore(sessionsInner, { keys: [next, current] }), states },
		});
		const { url } = await oauth.authorize({ target: { type: 'account', identifier: alice.handle } });
		await oauth.callback(await server.authorize(url, { did: alice.did }));
		expect(sessionsInner.get(alice.did)).toMatchObject({ kid: 'key-2' });

		// a process deployed without key-2: it cannot read the session, and keeps it
		const old = await createTestServerClient(server, {
			keyset: [key],
			stores: { sessions: encryptStore(sessionsInner, { keys: [current] }), states },
		});
		const events: unknown[] = [];
		old.addEventListener((event) => events.push(event));
		await expect(old.restore(alice.did)).rejects.toMatchObject({ code: 'unknown_key', keyId: 'key-2' });
		expect(sessionsInner.get(alice.did)).toBeDefined();

		// but signing the account out ends it there
		await old.revoke(alice.did);
		expect(sessionsInner.get(alice.did)).toBeUndefined();
		await vi.waitFor(() =>
			expect(events).toContainEqual({
				type: 'deleted',
				sub: alice.did,
				cause: 'revoked',
				revokedAtServer: false,
			}),
		);
	});
});
