import { describe, expect, it } from 'vitest';

import { OAuthCallbackError } from './errors.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	createTestClient,
	type TestAccount,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';

describe('binding a sign-in to the browser that started it', () => {
	let server: TestOAuthServer;
	let alice: TestAccount;
	useTestServer((env) => ({ server, alice } = env));

	it('authorize() returns the state id its callback carries, so the app can check it before callback()', async () => {
		const { client } = await createTestClient(server);
		const first = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		const second = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		expect(typeof first.stateId).toBe('string');
		expect(first.stateId).not.toBe(second.stateId);
		const params = await server.authorize(first.url, { did: alice.did });
		expect(params.get('state')).toBe(first.stateId);
	});
});

describe('a state store shared by two clients', () => {
	let server: TestOAuthServer;
	let alice: TestAccount;
	useTestServer((env) => ({ server, alice } = env));

	it("refuses a callback of another client_id's sign-in without spending it, and that client completes it", async () => {
		const states = new MapStore<StoredState>();
		const ours = await createTestClient(server, {
			stores: { sessions: new MapStore<StoredSession>(), states },
		});
		// the same key: one app served under two client_ids (two domains), or staging beside production
		const other = await createTestClient(server, {
			key: ours.key,
			metadata: {
				client_id: 'https://other.example.com/oauth-client-metadata.json',
				redirect_uris: ['https://other.example.com/oauth/callback'],
				scope: ['atproto', 'transition:generic'],
			},
			stores: { sessions: new MapStore<StoredSession>(), states },
		});
		const { url } = await ours.client.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			state: { returnTo: '/x' },
		});
		const params = await server.authorize(url, { did: alice.did });

		const refused = await other.client.callback(params).catch((err: unknown) => err);
		expect(refused).toBeInstanceOf(OAuthCallbackError);
		expect((refused as OAuthCallbackError).error).toBe('invalid_state');
		// the code went nowhere: not to the other client's token request
		expect(server.stats.token.authorization_code).toBe(0);

		const { session, state } = await ours.client.callback(params);
		expect(session.did).toBe(alice.did);
		expect(state).toEqual({ returnTo: '/x' });
	});
});
