import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
	type DidDocumentResolver,
	LocalActorResolver,
	PlcDidDocumentResolver,
	XrpcHandleResolver,
} from '@atcute/identity-resolver';

import type { Did } from '@atcute/lexicons';
import { generatePrivateKey } from '@atcute/oauth-keys';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';

import { STATE_TTL_MS } from './constants.ts';
import {
	AuthMethodUnsatisfiableError,
	IdentityMismatchError,
	IdentityResolutionError,
	InvalidResponseError,
	OAuthCallbackError,
	OAuthTransientError,
} from './errors.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	actorResolverFor,
	createTestClient,
	startTestOAuthServer,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';

const callbackError = async (promise: Promise<unknown>): Promise<OAuthCallbackError> => {
	const error = await promise.then(
		() => undefined,
		(err: unknown) => err,
	);
	expect(error).toBeInstanceOf(OAuthCallbackError);
	return error as OAuthCallbackError;
};

/** a fetch whose requests for the authorization server's metadata fail while `unreachable` is set. */
const metadataOutOfReach = () => {
	const state = {
		unreachable: false,
		fetch: (async (input, init) => {
			if (state.unreachable && String(input).includes('/.well-known/oauth-authorization-server')) {
				throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
			}
			return globalThis.fetch(input, init);
		}) as typeof globalThis.fetch,
	};
	return state;
};

/**
 * a fetch to the test servers that records the token of every revocation, and lets `rewrite`
 * change the tokens a token endpoint answer carries.
 */
const revocationsRecorded = () => {
	const state = {
		revoked: [] as string[],
		rewrite: undefined as ((tokens: Record<string, unknown>) => Record<string, unknown>) | undefined,
		fetch: (async (input, init) => {
			const path = new URL(String(input)).pathname;
			if (path === '/oauth/revoke') state.revoked.push(new URLSearchParams(String(init?.body)).get('token')!);
			const response = await globalThis.fetch(input, init);
			if (path !== '/oauth/token' || response.status !== 200 || state.rewrite === undefined) return response;
			const tokens = state.rewrite((await response.json()) as Record<string, unknown>);
			return Response.json(tokens, { headers: response.headers });
		}) as typeof globalThis.fetch,
	};
	return state;
};

describe('OAuthClient.callback', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let bob: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
		bob = server.createAccount({ handle: 'bob.test' }) as { did: Did; handle: string };
	});

	const start = async (overrides?: Parameters<typeof createTestClient>[1]) => {
		const test = await createTestClient(server, overrides);
		const { url } = await test.client.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			state: { returnTo: '/protected' },
		});
		return { ...test, url };
	};

	it('returns the session and the app state, and stores the granted scope', async () => {
		const { client, url, sessions, key } = await start();
		const { session, state } = await client.callback(await server.authorize(url, { did: alice.did }));
		expect(state).toEqual({ returnTo: '/protected' });
		expect(session.did).toBe(alice.did);
		const stored = sessions.map.get(alice.did)!;
		expect(stored.tokenSet.scope).toBe(server.sessions(alice.did).at(-1)!.scope);
		expect(stored.tokenSet.aud).toBe(server.pdsUrl);
		// bound to the key by its kid and its RFC 7638 thumbprint, as the server binds the grant
		expect(stored.authMethod).toEqual({
			method: 'private_key_jwt',
			kid: 'main',
			jkt: await calculateJwkThumbprint(key.publicJwk as JWK, 'sha256'),
		});
		expect(session.scope).toBe(stored.tokenSet.scope);
	});

	it('takes a state once: a replayed callback fails and the code is exchanged once', async () => {
		const { client, url } = await start();
		const params = await server.authorize(url, { did: alice.did });
		await client.callback(params);
		const error = await callbackError(client.callback(params));
		expect(error.error).toBe('invalid_state');
		expect(server.stats.token.authorization_code).toBe(1);
	});

	it('lets only one of two concurrent callbacks through, even with a store that cannot take', async () => {
		const { client, url } = await start({
			stores: {
				sessions: new MapStore<StoredSession>(),
				states: new MapStore<StoredState>({ atomicTake: false }),
			},
		});
		const params = await server.authorize(url, { did: alice.did });
		const results = await Promise.allSettled([client.callback(params), client.callback(params)]);
		expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
		expect(server.stats.token.authorization_code).toBe(1);
	});

	it('lets only one callback through when two clients share a store that cannot take', async () => {
		// a client per request, or a web handler beside a job runner: one state store, two clients
		const stores = {
			sessions: new MapStore<StoredSession>(),
			states: new MapStore<StoredState>({ atomicTake: false }),
		};
		const { client, url, key, clock } = await start({ stores });
		const { client: other } = await createTestClient(server, { stores, key, clock });
		const params = await server.authorize(url, { did: alice.did });
		const results = await Promise.allSettled([client.callback(params), other.callback(params)]);
		expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
		const refused = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
		expect((refused.reason as OAuthCallbackError).error).toBe('invalid_state');
		expect(server.stats.token.authorization_code).toBe(1);
	});

	it('revokes the grant a new sign-in of the account replaced, which no sign-out could reach after', async () => {
		const { client, url, sessions } = await start();
		await client.callback(await server.authorize(url, { did: alice.did }));
		const replaced = sessions.map.get(alice.did)!;
		const grants = () => server.sessions(alice.did).slice(-2);

		const { url: again } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const revocations = () =>
			server.stats.requests.filter((request) => request.path === '/oauth/revoke').length;
		const before = revocations();
		await client.callback(await server.authorize(again, { did: alice.did }));

		// the first grant is over at the server (its refresh token alone revoked: one round trip),
		// the second is the one stored
		expect(grants().map((grant) => grant.active)).toEqual([false, true]);
		expect(revocations()).toBe(before + 1);
		expect(sessions.map.get(alice.did)!.tokenSet.refresh_token).not.toBe(replaced.tokenSet.refresh_token);
		// and signing out ends the only grant left
		await client.revoke(alice.did);
		expect(grants().map((grant) => grant.active)).toEqual([false, false]);
	});

	it('keeps a new sign-in when the replaced grant cannot be revoked', async () => {
		const { client, url, sessions } = await start();
		await client.callback(await server.authorize(url, { did: alice.did }));
		server.behaviour.revokeFailure = 'status_503';

		const { url: again } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const { session } = await client.callback(await server.authorize(again, { did: alice.did }));

		const [first, second] = server.sessions(alice.did).slice(-2);
		expect([first!.active, second!.active]).toEqual([true, true]);
		expect(sessions.map.get(alice.did)!.tokenSet.access_token).toBe(second!.accessToken);
		expect(session.did).toBe(alice.did);
		expect(
			server.stats.requests.filter((request) => request.path === '/oauth/revoke').length,
		).toBeGreaterThan(0);
	});

	it('does not revoke a replaced grant whose refresh token the new sign-in holds too', async () => {
		// a server may hand the refresh token it already issued to a new authorization of the same
		// account: revoking the replaced grant would then end the new sign-in with it
		const recorded = revocationsRecorded();
		const { client, url, sessions } = await start({ fetch: recorded.fetch });
		await client.callback(await server.authorize(url, { did: alice.did }));
		const replaced = sessions.map.get(alice.did)!;
		recorded.rewrite = (tokens) => ({ ...tokens, refresh_token: replaced.tokenSet.refresh_token });

		const { url: again } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		await client.callback(await server.authorize(again, { did: alice.did }));

		expect(sessions.map.get(alice.did)!.tokenSet.refresh_token).toBe(replaced.tokenSet.refresh_token);
		expect(recorded.revoked).toEqual([]);
	});

	it('puts the state back when a failure that may pass comes before the code is sent, so the callback can be tried again', async () => {
		const metadata = metadataOutOfReach();
		const { fetch } = metadata;
		const stores = { sessions: new MapStore<StoredSession>(), states: new MapStore<StoredState>() };
		const { url, key, clock } = await start({ stores });
		// the callback reaches another process, which has not read the server's metadata yet, and
		// cannot for now
		const { client: other } = await createTestClient(server, { stores, key, clock, fetch });
		const params = await server.authorize(url, { did: alice.did });
		metadata.unreachable = true;

		const error = await other.callback(params).catch((e) => e);
		expect(error).toMatchObject({ name: 'DiscoveryError', transient: true });
		expect(server.stats.token.authorization_code).toBe(0);
		expect(stores.states.map.size).toBe(1);

		// the same callback, once the server is back, completes; and the state is then spent
		metadata.unreachable = false;
		const { session } = await other.callback(params);
		expect(session.did).toBe(alice.did);
		expect(server.stats.token.authorization_code).toBe(1);
		expect(stores.states.map.size).toBe(0);
		expect((await callbackError(other.callback(params))).error).toBe('invalid_state');
	});

	describe('when the token request fails at the transport', () => {
		/**
		 * a fetch that sends token requests to `elsewhere` (a port nothing listens on, or a server that
		 * drops the connection) while it is set, through the global fetch: its real errors.
		 */
		const tokenEndpointAt = () => {
			const state = {
				elsewhere: undefined as string | undefined,
				fetch: (async (input, init) => {
					const url = new URL(String(input));
					if (state.elsewhere !== undefined && url.pathname === '/oauth/token') {
						return globalThis.fetch(new URL(url.pathname, state.elsewhere), init);
					}
					return globalThis.fetch(input, init);
				}) as typeof globalThis.fetch,
			};
			return state;
		};

		it('puts the state back when the connection was refused (nothing sent), so a reload signs in', async () => {
			const transport = tokenEndpointAt();
			const closed = createServer();
			await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
			const { port } = closed.address() as AddressInfo;
			await new Promise((resolve) => closed.close(resolve));
			const { client, states, url } = await start({ fetch: transport.fetch });
			const params = await server.authorize(url, { did: alice.did });
			transport.elsewhere = `http://127.0.0.1:${port}`;

			const error = await client.callback(params).catch((e) => e);
			expect(error).toBeInstanceOf(OAuthTransientError);
			expect(error).toMatchObject({ kind: 'network', transient: true });
			expect(states.map.size).toBe(1);

			// the authorization server is back: the user reloads the callback page
			transport.elsewhere = undefined;
			const { session } = await client.callback(params);
			expect(session.did).toBe(alice.did);
			expect(server.stats.token.authorization_code).toBe(1);
			expect(states.map.size).toBe(0);
		});

		it('spends the state when the connection broke once the request may have gone out', async () => {
			const transport = tokenEndpointAt();
			// takes the request, then drops the connection without an answer
			const dropping = createServer((request) => request.socket.destroy());
			await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
			try {
				const { client, states, url } = await start({ fetch: transport.fetch });
				const params = await server.authorize(url, { did: alice.did });
				transport.elsewhere = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}`;

				const error = await client.callback(params).catch((e) => e);
				expect(error).toBeInstanceOf(OAuthTransientError);
				expect(error).toMatchObject({ kind: 'network', transient: true });
				expect(states.map.size).toBe(0);
			} finally {
				dropping.closeAllConnections();
				await new Promise((resolve) => dropping.close(resolve));
			}
		});
	});

	it("puts the state back when this process's keyset lacks the key the sign-in was started with, for a process that has it", async () => {
		const stores = { sessions: new MapStore<StoredSession>(), states: new MapStore<StoredState>() };
		const { url, key, clock } = await start({ stores });
		// a rolling deploy: the callback reaches a process whose keyset lacks the key the sign-in
		// was started with (not yet updated, or rolled back), and the same callback (a reload) then
		// reaches one that has it
		const { client: other } = await createTestClient(server, {
			stores,
			clock,
			key: await generatePrivateKey('rotated'),
		});
		const params = await server.authorize(url, { did: alice.did });

		const error = await other.callback(params).catch((e) => e);
		expect(error).toBeInstanceOf(AuthMethodUnsatisfiableError);
		expect(error.message).toMatch(
			/the sign-in (of \S+ )?was started with key "\w+", which this process's keyset does not have/,
		);
		expect(server.stats.token.authorization_code).toBe(0);
		expect(stores.states.map.size).toBe(1);

		const { client: updated } = await createTestClient(server, { stores, clock, key });
		const { session } = await updated.callback(params);
		expect(session.did).toBe(alice.did);
		expect(stores.states.map.size).toBe(0);
	});

	it('spends the state when a failure that will not pass comes before the code is sent', async () => {
		const stores = { sessions: new MapStore<StoredSession>(), states: new MapStore<StoredState>() };
		const { url, key, clock } = await start({ stores });
		// the callback reaches another process, which has not read the server's metadata yet, and
		// now reads metadata it refuses: asking again gives the same answer
		const refused: typeof fetch = async (input, init) => {
			if (String(input).includes('/.well-known/oauth-authorization-server')) {
				return Response.json({ issuer: 'https://elsewhere.example' });
			}
			return globalThis.fetch(input, init);
		};
		const { client: other } = await createTestClient(server, { stores, clock, key, fetch: refused });
		const params = await server.authorize(url, { did: alice.did });

		const error = await other.callback(params).catch((e) => e);
		expect(error).toMatchObject({ name: 'DiscoveryError', transient: false });
		expect(server.stats.token.authorization_code).toBe(0);
		expect(stores.states.map.size).toBe(0);
	});

	it('reads a state store without take that answers null for an unknown state as having none', async () => {
		// ioredis, pg and bun:sqlite answer null for a missing key
		const states = new MapStore<StoredState>({ atomicTake: false });
		const get = states.get.bind(states);
		states.get = async (key) => (await get(key)) ?? (null as unknown as undefined);
		const { client, url } = await start({ stores: { sessions: new MapStore<StoredSession>(), states } });
		const params = await server.authorize(url, { did: alice.did });
		const forged = new URLSearchParams(params);
		forged.set('state', 'unknown');
		const error = await callbackError(client.callback(forged));
		expect(error.error).toBe('invalid_state');
		expect(error.message).toMatch(/unknown or already used state/);
		expect(states.calls).not.toContain('delete unknown');
		expect(server.stats.token.authorization_code).toBe(0);
	});

	it('refuses a state older than 10 minutes, by its own clock, without exchanging the code', async () => {
		const { client, url, clock } = await start();
		const params = await server.authorize(url, { did: alice.did });
		clock.advance(STATE_TTL_MS + 1);
		const error = await callbackError(client.callback(params));
		expect(error.error).toBe('expired_state');
		expect(error.state).toEqual({ returnTo: '/protected' });
		expect(server.stats.token.authorization_code).toBe(0);
	});

	it('refuses an unknown or missing state', async () => {
		const { client } = await start();
		expect((await callbackError(client.callback(new URLSearchParams({ code: 'x' })))).error).toBe(
			'missing_state',
		);
		expect(
			(await callbackError(client.callback(new URLSearchParams({ state: 'nope', code: 'x' })))).error,
		).toBe('invalid_state');
	});

	it('refuses a stored state with an empty verifier or no issuer before exchanging the code', async () => {
		// an empty verifier would go to the server as the PKCE proof, and without an issuer nothing
		// binds the callback's iss to the server the sign-in went to
		for (const [change, message] of [
			[{ verifier: '' }, /no PKCE verifier/],
			[{ issuer: undefined }, /no issuer/],
		] as const) {
			const { client, url, states } = await start();
			const id = [...states.map.keys()][0]!;
			states.map.set(id, { ...states.map.get(id)!, ...change } as StoredState);
			const error = await callbackError(client.callback(await server.authorize(url, { did: alice.did })));
			expect(error.error).toBe('invalid_state');
			expect(error.message).toMatch(message);
		}
		expect(server.stats.token.authorization_code).toBe(0);
	});

	it('turns a denied consent into an OAuthCallbackError carrying access_denied and the app state', async () => {
		const { client, url } = await start();
		const error = await callbackError(
			client.callback(await server.authorize(url, { did: alice.did, deny: true })),
		);
		expect(error.error).toBe('access_denied');
		expect(error.state).toEqual({ returnTo: '/protected' });
		expect(server.stats.token.authorization_code).toBe(0);
	});

	it('refuses a callback from another issuer (RFC 9207) before exchanging the code', async () => {
		const { client, url } = await start();
		server.behaviour.issOverride = 'https://evil.example';
		const error = await callbackError(client.callback(await server.authorize(url, { did: alice.did })));
		expect(error.error).toBe('issuer_mismatch');
		expect(server.stats.token.authorization_code).toBe(0);
	});

	it('refuses a callback without iss', async () => {
		const { client, url } = await start();
		server.behaviour.omitIss = true;
		const error = await callbackError(client.callback(await server.authorize(url, { did: alice.did })));
		expect(error.error).toBe('missing_iss');
		expect(server.stats.token.authorization_code).toBe(0);
	});

	it("takes an error response for the server's only when its iss is the server's", async () => {
		for (const [iss, expected] of [
			['https://evil.example', 'issuer_mismatch'],
			[undefined, 'missing_iss'],
		] as const) {
			const { client, url } = await start();
			const real = await server.authorize(url, { did: alice.did });
			// a link anyone can write: the state of a sign-in under way, an error and words of its own
			const forged = new URLSearchParams({
				state: real.get('state')!,
				error: 'access_denied',
				error_description: 'your account is locked: visit https://evil.example/unlock',
			});
			if (iss !== undefined) forged.set('iss', iss);
			const error = await callbackError(client.callback(forged));
			expect(error.error).toBe(expected);
			expect(error.errorDescription).not.toContain('evil.example/unlock');
		}
	});

	it('refuses a callback without code', async () => {
		const { client, url } = await start();
		const params = await server.authorize(url, { did: alice.did });
		params.delete('code');
		expect((await callbackError(client.callback(params))).error).toBe('missing_code');
	});

	it('refuses tokens for another account than the one that started, and revokes them', async () => {
		const recorded = revocationsRecorded();
		const { client, url, sessions } = await start({ fetch: recorded.fetch });
		server.behaviour.subOverride = bob.did;
		const error = await client
			.callback(await server.authorize(url, { did: alice.did }))
			.catch((err: unknown) => err);
		expect(error).toBeInstanceOf(IdentityMismatchError);
		expect(error).toMatchObject({ field: 'sub', expected: alice.did, actual: bob.did });
		expect(sessions.map.size).toBe(0);
		// the grant this sign-in produced is revoked at the server
		expect(server.sessions(alice.did).at(-1)).toMatchObject({
			active: false,
			revokedReason: 'revoked by the client',
		});
		// by its refresh token, which ends the whole grant at any server (an access token may not)
		expect(recorded.revoked).toEqual([server.sessions(alice.did).at(-1)!.refreshToken]);
	});

	describe('a state stored by upstream @atcute/oauth-node-client 2.x (a deploy during a sign-in)', () => {
		/** the stored state, rewritten with upstream's names for three of its fields. */
		const asUpstream = (states: MapStore<StoredState>): string => {
			expect(states.map.size).toBe(1);
			const id = [...states.map.keys()][0]!;
			const { verifier, expectedDid, appState, ...rest } = states.map.get(id)!;
			states.map.set(id, { ...rest, pkceVerifier: verifier, sub: expectedDid, userState: appState } as never);
			return id;
		};

		it('completes it: the verifier sent, the app state handed back', async () => {
			const { client, url, states } = await start();
			asUpstream(states);
			const { session, state } = await client.callback(await server.authorize(url, { did: alice.did }));
			expect(session.did).toBe(alice.did);
			expect(state).toEqual({ returnTo: '/protected' });
		});

		it('still refuses another account than the one it expected', async () => {
			const { client, url, sessions, states } = await start();
			asUpstream(states);
			server.behaviour.subOverride = bob.did;
			const error = await client.callback(await server.authorize(url, { did: alice.did })).catch((e) => e);
			expect(error).toMatchObject({ name: 'IdentityMismatchError', field: 'sub', expected: alice.did });
			expect(sessions.map.size).toBe(0);
		});

		it('refuses one with no verifier before exchanging the code', async () => {
			const { client, url, states } = await start();
			const id = asUpstream(states);
			const { pkceVerifier: _dropped, ...rest } = states.map.get(id) as unknown as Record<string, unknown>;
			states.map.set(id, rest as never);
			const error = await callbackError(client.callback(await server.authorize(url, { did: alice.did })));
			expect(error.error).toBe('invalid_state');
			expect(error.message).toMatch(/no PKCE verifier/);
			expect(server.stats.token.authorization_code).toBe(0);
		});
	});

	// signed in at a server, the account is the server's word: a did:web it names on an IP
	// address would have the DID document fetched from there (an internal address, say)
	for (const sub of ['did:web:10.0.0.5%3A8080', 'did:web:127.0.0.1', 'did:web:internal%3A8080']) {
		it(`refuses tokens a sign-in at a server got for ${sub}, before resolving it, and revokes them`, async () => {
			const { client, sessions } = await createTestClient(server);
			const { url } = await client.authorize({ target: { type: 'pds', serviceUrl: server.pdsUrl } });
			server.behaviour.subOverride = sub;
			const params = await server.authorize(url, { did: alice.did });
			const fetched = server.stats.requests.length;
			const error = await client.callback(params).catch((e) => e);
			expect(error).toBeInstanceOf(InvalidResponseError);
			expect(error.message).toMatch(/"sub" is no atproto DID/);
			expect(sessions.map.size).toBe(0);
			// the token request, then its revocation: no DID document was asked for
			expect(server.stats.requests.slice(fetched).map((request) => request.path)).toEqual([
				'/oauth/token',
				'/oauth/revoke',
			]);
			expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: false });
		});
	}

	it('refuses an account whose identity leads to another authorization server', async () => {
		const other = await startTestOAuthServer();
		try {
			// mallory's PDS names another issuer, yet this server claims to speak for her
			const mallory = other.createAccount({ handle: 'mallory.test' }) as { did: Did };
			server.createAccount({ handle: 'mallory-here.test', did: mallory.did, pdsEndpoint: other.pdsUrl });
			const { client, sessions } = await createTestClient(server);
			const { url } = await client.authorize({ target: { type: 'pds', serviceUrl: server.pdsUrl } });
			const error = await client
				.callback(await server.authorize(url, { did: mallory.did }))
				.catch((err: unknown) => err);
			expect(error).toBeInstanceOf(IdentityMismatchError);
			expect(error).toMatchObject({ field: 'issuer', expected: server.issuer, actual: other.issuer });
			expect(sessions.map.size).toBe(0);
		} finally {
			await other.close();
		}
	});

	it('marks an identity outage at the callback transient, and revokes the tokens', async () => {
		const { client, url, sessions } = await start();
		const params = await server.authorize(url, { did: alice.did });
		server.behaviour.didDocumentFailure = 'status_503';
		const error = await client.callback(params).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(IdentityResolutionError);
		expect(error).toMatchObject({ reason: 'unavailable', transient: true, identifier: alice.did });
		expect(server.stats.revoke).toBe(1);
		expect(sessions.map.size).toBe(0);
	});

	it("refuses a DID document that is another DID's, and revokes the tokens", async () => {
		// the directory answers for alice with bob's document: its PDS is not alice's to name
		const plc = new PlcDidDocumentResolver({ apiUrl: server.plcUrl });
		const actorResolver = new LocalActorResolver({
			handleResolver: new XrpcHandleResolver({ serviceUrl: server.pdsUrl }),
			didDocumentResolver: {
				resolve: (did, options) => plc.resolve((did === alice.did ? bob.did : did) as never, options),
			} as DidDocumentResolver,
		});
		const { client, sessions } = await createTestClient(server, { actorResolver });
		// refused at authorize() already, before anything is pushed
		const early = await client
			.authorize({ target: { type: 'account', identifier: alice.did } })
			.catch((err: unknown) => err);
		expect(early).toMatchObject({ name: 'IdentityResolutionError', reason: 'invalid_document' });
		expect(server.stats.par ?? 0).toBe(0);
		// and at the callback of a sign-in through the server, which resolved nothing first
		const { url } = await client.authorize({ target: { type: 'pds', serviceUrl: server.pdsUrl } });
		const error = await client
			.callback(await server.authorize(url, { did: alice.did }))
			.catch((err: unknown) => err);
		expect(error).toBeInstanceOf(IdentityResolutionError);
		expect(error).toMatchObject({ reason: 'invalid_document', transient: false, identifier: alice.did });
		expect((error as Error).message).toContain(bob.did);
		expect(server.stats.revoke).toBe(1);
		expect(sessions.map.size).toBe(0);
	});

	it("re-resolves the account's DID document and its PDS's issuer at the callback, without the handle", async () => {
		const { client, url } = await start();
		const params = await server.authorize(url, { did: alice.did });
		const before = server.stats.requests.length;
		await client.callback(params);
		const asked = server.stats.requests.slice(before).map((r) => `${r.server} ${r.method} ${r.path}`);
		// DID → PDS → issuer, each afresh; the handle decides nothing here, so it is not asked again
		expect(asked.filter((line) => line.startsWith('plc GET'))).toHaveLength(1);
		expect(asked.filter((line) => line === 'pds GET /.well-known/oauth-protected-resource')).toHaveLength(1);
		// the issuer's own metadata was read for the code exchange: a fresh copy would prove nothing more
		expect(asked.filter((line) => line.includes('/.well-known/oauth-authorization-server'))).toEqual([]);
		expect(asked.filter((line) => line.includes('resolveHandle'))).toEqual([]);
	});

	it("completes a callback whose server's metadata is out of reach once the code is sent", async () => {
		const metadata = metadataOutOfReach();
		const { fetch } = metadata;
		const { client, url, sessions } = await start({ fetch });
		const params = await server.authorize(url, { did: alice.did });
		// the metadata this client read for the sign-in is what the exchange and the check both use:
		// a server that stops answering for its metadata must not cost a code already spent
		metadata.unreachable = true;
		const { session } = await client.callback(params);
		expect(session.did).toBe(alice.did);
		expect(sessions.map.has(alice.did)).toBe(true);
		expect(server.stats.revoke ?? 0).toBe(0);
	});

	it('re-resolves through a resolver that exposes no DID document resolver, and still refuses another issuer', async () => {
		const other = await startTestOAuthServer();
		try {
			const real = actorResolverFor(server);
			// only the ActorResolver interface: resolve() with its handle check
			const actorResolver = { resolve: real.resolve.bind(real) };
			const { client, sessions } = await createTestClient(server, { actorResolver });
			const { url } = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
			const params = await server.authorize(url, { did: alice.did });
			server.updateAccount(alice.did, { pdsEndpoint: other.pdsUrl });
			const error = await client.callback(params).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(IdentityMismatchError);
			expect(error).toMatchObject({ field: 'issuer', expected: server.issuer, actual: other.issuer });
			expect(sessions.map.size).toBe(0);
		} finally {
			server.updateAccount(alice.did, { pdsEndpoint: server.pdsUrl });
			await other.close();
		}
	});

	it('refuses a token response that is not DPoP or lacks the atproto scope, and revokes its tokens', async () => {
		for (const [switchName, value] of [
			['tokenTypeOverride', 'Bearer'],
			['tokenScopeOverride', 'transition:generic'],
		] as const) {
			server.reset();
			const { client, url, sessions } = await start();
			server.behaviour[switchName] = value;
			const error = await client
				.callback(await server.authorize(url, { did: alice.did }))
				.catch((err: unknown) => err);
			expect(error).toBeInstanceOf(InvalidResponseError);
			// the message names the field, never a token
			expect((error as Error).message).toMatch(switchName === 'tokenTypeOverride' ? /token_type/ : /scope/);
			expect(sessions.map.size).toBe(0);
			// the grant the refused answer carried is not left live at the server
			expect(server.sessions(alice.did).at(-1)).toMatchObject({
				active: false,
				revokedReason: 'revoked by the client',
			});
		}
	});

	for (const name of ['code', 'state', 'iss'] as const) {
		it(`refuses a callback that repeats ${name} before taking the state or exchanging the code`, async () => {
			const { client, url, states } = await start();
			const params = await server.authorize(url, { did: alice.did });
			const repeated = new URLSearchParams(params);
			repeated.append(name, name === 'iss' ? 'https://evil.example' : 'other');

			const error = await callbackError(client.callback(repeated));
			expect(error).toMatchObject({ error: 'duplicate_parameter', code: 'ERR_OAUTH_CALLBACK' });
			expect(error.message).toContain(name);
			expect(server.stats.token.authorization_code).toBe(0);
			// the state was not spent on the refused query: the genuine callback still completes
			expect(states.map.has(params.get('state')!)).toBe(true);
			const { session } = await client.callback(params);
			expect(session.did).toBe(alice.did);
		});
	}

	it('refuses a token response without a DPoP-Nonce header, and keeps no session', async () => {
		const { client, url, sessions } = await start();
		const params = await server.authorize(url, { did: alice.did });
		// the nonce from PAR is still known, so the exchange goes through at the server
		server.behaviour.omitDpopNonceHeader = true;
		const error = await client.callback(params).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(InvalidResponseError);
		expect(error).toMatchObject({ endpoint: 'token', code: 'ERR_INVALID_RESPONSE' });
		expect((error as Error).message).toMatch(/DPoP-Nonce/);
		expect(server.stats.token.authorization_code).toBe(1);
		expect(sessions.map.size).toBe(0);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({
			active: false,
			revokedReason: 'revoked by the client',
		});
	});

	it('accepts a token response without a DPoP-Nonce header with dangerouslySkipDpopNonceCheck', async () => {
		const { client, url } = await start({ dangerouslySkipDpopNonceCheck: true });
		const params = await server.authorize(url, { did: alice.did });
		server.behaviour.omitDpopNonceHeader = true;
		const { session } = await client.callback(params);
		expect(session.did).toBe(alice.did);
	});

	it('retries the code exchange only on a nonce challenge', async () => {
		const { client, url } = await start();
		server.rotateNonce('as');
		const { session } = await client.callback(await server.authorize(url, { did: alice.did }));
		expect(session.did).toBe(alice.did);
		expect(server.stats.token.authorization_code).toBe(1);
		server.assertNoRejections();
	});

	it('retries the code exchange on a nonce challenge once, not for as long as the server asks', async () => {
		const { client, url } = await start();
		const params = await server.authorize(url, { did: alice.did });
		server.behaviour.rejectEveryNonce = true;
		const exchanges = () => server.stats.requests.filter((request) => request.path === '/oauth/token').length;

		const error = await client.callback(params).catch((err: unknown) => err);
		expect(error).toMatchObject({ error: 'use_dpop_nonce' });
		expect(exchanges()).toBe(2);
	});

	it('never follows a redirect from the token endpoint, which would carry the code and the client assertion elsewhere', async () => {
		const asked: string[] = [];
		const fetch: typeof globalThis.fetch = async (input, init) => {
			asked.push(String(input));
			if (String(input) === `${server.issuer}/oauth/token`) {
				return new Response(null, { status: 307, headers: { location: 'https://evil.example/steal' } });
			}
			return globalThis.fetch(input, init);
		};
		const { client, url, sessions } = await start({ fetch });

		const error = await client.callback(await server.authorize(url, { did: alice.did })).catch((e) => e);
		expect(error).toBeInstanceOf(InvalidResponseError);
		expect((error as Error).message).toMatch(/307/);
		expect(asked.filter((sent) => sent.startsWith('https://evil.example'))).toEqual([]);
		expect(sessions.map.size).toBe(0);
	});

	it('takes no tokens from a token endpoint answer with a redirect status', async () => {
		// the tokens of a 3xx are not the server's answer to the request
		const fetch: typeof globalThis.fetch = async (input, init) => {
			const response = await globalThis.fetch(input, init);
			if (String(input) !== `${server.issuer}/oauth/token`) return response;
			const headers = new Headers(response.headers);
			headers.set('location', `${server.issuer}/elsewhere`);
			return new Response(await response.text(), { status: 302, headers });
		};
		const { client, url, sessions } = await start({ fetch });

		const error = await client.callback(await server.authorize(url, { did: alice.did })).catch((e) => e);
		expect(error).toBeInstanceOf(InvalidResponseError);
		expect(sessions.map.size).toBe(0);
	});
});
