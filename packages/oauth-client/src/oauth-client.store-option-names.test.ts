// `stores` is options too: a misspelt `dpopNonces` would leave the servers' nonces in this process's
// memory while the app believes them shared, as a misspelt top-level option would be ignored
import type { ActorResolver } from '@atcute/identity-resolver';
import { MemoryDpopNonceCache } from '@atcute/oauth-dpop';
import { generatePrivateKey } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';

import { OAuthClient } from './oauth-client.ts';
import type { OAuthClientOptions } from './oauth-client-options.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';

const actorResolver: ActorResolver = {
	resolve: () => Promise.reject(new Error('not resolved in this test')),
};

const clientWithStores = async (stores: Record<string, unknown>): Promise<OAuthClient> =>
	new OAuthClient({
		metadata: {
			client_id: 'https://app.example.com/oauth-client-metadata.json',
			redirect_uris: ['https://app.example.com/oauth/callback'],
			scope: ['atproto'],
		},
		keyset: [await generatePrivateKey('main')],
		stores: stores as unknown as OAuthClientOptions['stores'],
		actorResolver,
	});

describe('new OAuthClient: the names in stores', () => {
	it.each(['dpopNonce', 'nonces', 'dpopNonceCache', 'session'])(
		'refuses stores.%s, naming it and the stores it takes',
		async (name) => {
			const stores = {
				sessions: new MapStore<StoredSession>(),
				states: new MapStore<StoredState>(),
				[name]: new MemoryDpopNonceCache(),
			};
			const error = await clientWithStores(stores).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(TypeError);
			expect((error as Error).message).toBe(
				`new OAuthClient(options).stores has no option "${name}" (it takes sessions, states, dpopNonces)`,
			);
		},
	);

	it('takes sessions, states and dpopNonces', async () => {
		const client = await clientWithStores({
			sessions: new MapStore<StoredSession>(),
			states: new MapStore<StoredState>(),
			dpopNonces: new MemoryDpopNonceCache(),
		});
		expect(client).toBeInstanceOf(OAuthClient);
	});
});
