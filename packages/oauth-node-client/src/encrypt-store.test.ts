// the documented encryption-at-rest setup (README "Encryption at rest"), through the facade
import { describe, expect, it } from 'vitest';

import {
	encryptStore,
	generateStoreKey,
	MemoryStore,
	type OAuthClientStores,
	parseStoreKeys,
	StoreDecryptionError,
	type StoredSession,
} from './index.ts';

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
