// an app's own signer (a KMS or HSM behind `createSigner`) that fails: its error reaches the caller
// as it is, never as the authorization server "could not be reached", and a request that was never
// sent spends nothing (a callback's state goes back)
import type { Did } from '@atcute/lexicons';
import { type CreateSigner, createWebCryptoSigner } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';

import type { OAuthSessionEvent } from './session-events.ts';
import { createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/** a signer that signs through WebCrypto until it is broken, then throws `failure`. */
const breakableSigner = () => {
	const failure = new Error('KMS: key is disabled');
	const control = { broken: false };
	const createSigner: CreateSigner = (key, alg) => {
		const sign = createWebCryptoSigner(key, alg);
		return async (data) => {
			if (control.broken) throw failure;
			return sign(data);
		};
	};
	return { control, failure, createSigner };
};

describe('a signer that fails', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	/** the requests the test server got for `path`. */
	const requestsTo = (path: string) =>
		server.stats.requests.filter((request) => request.path === path).length;

	it("fails a refresh with the signer's own error, sends nothing and keeps the session", async () => {
		const { control, failure, createSigner } = breakableSigner();
		const { client, sessions } = await createTestClient(server, { createSigner });
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.handle } });
		await client.callback(await server.authorize(url, { did: alice.did }));
		const before = structuredClone(sessions.map.get(alice.did));
		const events: OAuthSessionEvent[] = [];
		client.addEventListener((event) => events.push(event));
		server.stats.refreshAttempts = 0;
		control.broken = true;

		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(error).toBe(failure);
		expect(server.stats.refreshAttempts).toBe(0);
		expect(sessions.map.get(alice.did)).toEqual(before);
		expect(events).toEqual([]);

		control.broken = false;
		await expect(client.restore(alice.did, { refresh: true })).resolves.toBeDefined();
		expect(server.stats.refreshAttempts).toBe(1);
	});

	it("fails authorize() with the signer's own error, and leaves no state", async () => {
		const { control, failure, createSigner } = breakableSigner();
		const { client, states } = await createTestClient(server, { createSigner });
		control.broken = true;

		const error = await client
			.authorize({ target: { type: 'account', identifier: alice.handle } })
			.catch((err: unknown) => err);
		expect(error).toBe(failure);
		expect(server.stats.par).toBe(0);
		expect(states.map.size).toBe(0);
	});

	it('puts the state back when the code exchange could not be signed, so a reload of the callback signs in', async () => {
		const { control, failure, createSigner } = breakableSigner();
		const { client, states } = await createTestClient(server, { createSigner });
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.handle } });
		const params = await server.authorize(url, { did: alice.did });
		control.broken = true;

		const error = await client.callback(params).catch((err: unknown) => err);
		expect(error).toBe(failure);
		expect(requestsTo('/oauth/token')).toBe(0);
		expect(states.map.has(params.get('state')!)).toBe(true);

		// the signer works again: the user reloads the callback page
		control.broken = false;
		const { session } = await client.callback(params);
		expect(session.did).toBe(alice.did);
		expect(states.map.size).toBe(0);
	});
});
