import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { OAuthCallbackError } from './errors.ts';
import { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/**
 * a callback's `state` is text from a link anyone can write. the states this client (and the
 * clients whose sign-ins it completes) issues are base64url: anything else is no state of ours,
 * refused before the state store is asked.
 */
describe('OAuthClient.callback: a state no client issues', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => ({ server, alice } = env));

	const refusal = async (promise: Promise<unknown>): Promise<OAuthCallbackError> => {
		const error = await promise.then(
			() => undefined,
			(err: unknown) => err,
		);
		expect(error).toBeInstanceOf(OAuthCallbackError);
		return error as OAuthCallbackError;
	};

	it("takes no session out of a store that holds sessions and states alike (?state= an account's DID)", async () => {
		// one store for both (one SQLite table, both stores left at its default name): a DID is a key there
		const shared = new MapStore<never>();
		const { client } = await createTestClient(server, { stores: { sessions: shared, states: shared } });
		await signIn(server, client, alice.did);
		expect(shared.map.has(alice.did)).toBe(true);

		const forged = new URLSearchParams({ state: alice.did, iss: server.issuer, code: 'x' });
		const error = await refusal(client.callback(forged));
		expect(error.error).toBe('invalid_state');
		// the account stays signed in: its session was neither taken nor lost
		expect(shared.map.has(alice.did)).toBe(true);
		expect((await client.restore(alice.did, { refresh: false })).did).toBe(alice.did);
	});

	it('refuses a huge, NUL, spaced or non-ASCII state before the store, without quoting it', async () => {
		const states = new MapStore<never>();
		const { client } = await createTestClient(server, {
			stores: { sessions: new MapStore<never>(), states },
		});
		for (const state of ['s'.repeat(1_000_000), 'a\u0000b', 'a b', 'a+b', 'ab=', '\ud800', 'é']) {
			const error = await refusal(
				client.callback(new URLSearchParams({ state, iss: server.issuer, code: 'x' })),
			);
			expect(error.error).toBe('invalid_state');
			expect(error.message.length).toBeLessThan(200);
		}
		expect(states.calls).toEqual([]);
		expect(server.stats.token.authorization_code).toBe(0);
	});
});
