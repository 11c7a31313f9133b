import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
	type DidDocumentResolver,
	LocalActorResolver,
	PlcDidDocumentResolver,
	XrpcHandleResolver,
} from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { DiscoveryError } from '@atcute/oauth-discovery';
import { describe, expect, it, vi } from 'vitest';

import {
	IdentityResolutionError,
	InvalidResponseError,
	OAuthTransientError,
	TokenRefreshError,
} from './errors.ts';
import { createMemoryLock, type LockFunction } from './lock.ts';
import type { OAuthSessionEvent } from './session-events.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	createTestClient,
	signIn,
	startTestOAuthServer,
	type TestOAuthServer,
	type TestServerEnv,
	useTestServer,
} from './test-utils/setup.ts';
import type { OAuthTracer } from './tracer.ts';

const refreshError = async (promise: Promise<unknown>): Promise<unknown> => {
	return promise.then(
		() => undefined,
		(err: unknown) => err,
	);
};

describe('OAuthClient refresh rules', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let bob: { did: Did; handle: string };
	let count = 0;
	// a fresh account per test that moves its identity, so the others keep theirs
	const newAccount = () =>
		server.createAccount({ handle: `moving-${++count}.test` }) as { did: Did; handle: string };

	let env: TestServerEnv;

	useTestServer((ready) => {
		env = ready;
		({ server, alice } = env);
		bob = server.createAccount({ handle: 'bob.test' }) as { did: Did; handle: string };
	});

	it('ends the session when the refreshed tokens are for another account, and revokes them', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		server.behaviour.subOverride = bob.did;

		const error = await refreshError(client.restore(alice.did, { refresh: true }));
		expect(error).toBeInstanceOf(TokenRefreshError);
		expect(error).toMatchObject({ did: alice.did, reason: 'sub_mismatch', code: 'ERR_TOKEN_REFRESH' });
		expect(server.stats.token.refresh_token).toBe(1);
		// nothing of bob's is kept under alice, and alice's session is gone
		expect(sessions.map.has(alice.did)).toBe(false);
		expect(sessions.map.has(bob.did)).toBe(false);
		// the tokens that came back are revoked at the server
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: false });
	});

	it("keeps the tokens a refresh brought while the nonce cache never finishes storing the answer's nonce", async () => {
		// an async nonce cache (a shared one, whose connection is down) that stalls every write once
		// the session is made; the server announces a new nonce on every answer
		const known = new Map<string, string>();
		let stall = false;
		const dpopNonces = {
			get: async (origin: string) => known.get(origin),
			set: (origin: string, nonce: string) => {
				if (stall) return new Promise<void>(() => {});
				known.set(origin, nonce);
			},
		};
		const sessions = new MapStore<StoredSession>();
		const { client } = await createTestClient(server, {
			sessions,
			stores: { sessions, states: new MapStore<StoredState>(), dpopNonces },
			timeout: 2_000,
		});
		await signIn(server, client, alice.did);
		server.behaviour.rotateNonceEveryRequest = true;
		stall = true;

		await client.restore(alice.did, { refresh: true });

		// the refresh token kept is the one the server holds now, not the spent one
		const live = server.sessions(alice.did).at(-1)!;
		expect(live).toMatchObject({ active: true, refreshes: 1 });
		expect(sessions.map.get(alice.did)!.tokenSet.refresh_token).toBe(live.refreshToken);
		// and the next refresh works
		await client.restore(alice.did, { refresh: true });
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true, refreshes: 2 });
	});

	it('signs in and refreshes while an async nonce cache never answers a read, without spending the code', async () => {
		const known = new Map<string, string>();
		const sessions = new MapStore<StoredSession>();
		const { client } = await createTestClient(server, {
			sessions,
			stores: {
				sessions,
				states: new MapStore<StoredState>(),
				// reads hang (a connection that is down, no time limit of its own); writes work
				dpopNonces: {
					get: () => new Promise(() => {}),
					set: async (origin, nonce) => void known.set(origin, nonce),
				},
			},
			timeout: 5_000,
		});
		await signIn(server, client, alice.did);
		await client.restore(alice.did, { refresh: true });
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true, refreshes: 1 });
		expect(sessions.map.get(alice.did)!.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)!.refreshToken,
		);
	}, 20_000);

	it('signs in and refreshes while an async nonce cache is down, each request costing one retry at most', async () => {
		const down = () => Promise.reject(new Error('nonce cache down'));
		const sessions = new MapStore<StoredSession>();
		const { client } = await createTestClient(server, {
			sessions,
			stores: { sessions, states: new MapStore<StoredState>(), dpopNonces: { get: down, set: down } },
		});
		server.behaviour.rotateNonceEveryRequest = true;
		await signIn(server, client, alice.did);
		await client.restore(alice.did, { refresh: true });
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true, refreshes: 1 });
		expect(sessions.map.get(alice.did)!.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)!.refreshToken,
		);
	});

	it("lets a refresh, a call refused with 401 and a sign-out stand when the app's lock fails after its function finished", async () => {
		// a lock whose release fails (a Redlock-style lock whose database went away): what ran under
		// it is stored, so the caller must not be told it failed
		const lock = createMemoryLock();
		const requestLock: LockFunction = async (name, fn) => {
			// its release fails, whatever the function did
			await lock(name, fn).catch(() => {});
			throw new Error('release failed');
		};
		const { client, sessions } = await createTestClient(server, { requestLock });
		await signIn(server, client, alice.did);

		const session = await client.restore(alice.did, { refresh: true });
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true, refreshes: 1 });
		expect(sessions.map.get(alice.did)!.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)!.refreshToken,
		);

		// the server no longer takes the access token: the call refreshes under the lock, then is sent
		server.expireAccessTokens(alice.did);
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true, refreshes: 2 });

		await client.revoke(alice.did);
		expect(sessions.map.has(alice.did)).toBe(false);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: false });

		// and a function that failed is told as its own failure, not the lock's: a refresh refused
		// for good ends the session, which the caller must learn
		await signIn(server, client, alice.did);
		server.behaviour.refreshFailure = 'invalid_grant';
		const error = await refreshError(client.restore(alice.did, { refresh: true }));
		expect(error).toMatchObject({ name: 'TokenRefreshError', reason: 'invalid_grant' });
		expect(sessions.map.has(alice.did)).toBe(false);
	});

	it('ends a session without a refresh token without sending anything to the token endpoint', async () => {
		const { client, sessions } = await createTestClient(server);
		server.behaviour.omitRefreshToken = true;
		await signIn(server, client, alice.did);
		server.behaviour.omitRefreshToken = false;
		expect(sessions.map.get(alice.did)!.tokenSet.refresh_token).toBeUndefined();

		const error = await refreshError(client.restore(alice.did, { refresh: true }));
		expect(error).toBeInstanceOf(TokenRefreshError);
		expect(error).toMatchObject({ did: alice.did, reason: 'no_refresh_token' });
		expect(server.stats.token.refresh_token).toBe(0);
		expect(sessions.map.has(alice.did)).toBe(false);
	});

	it('ends the session, revoking its grant at its issuer and sending nothing to the new hosts, when the identity now leads to another issuer', async () => {
		const other = await startTestOAuthServer();
		try {
			const carol = newAccount();
			const { client, sessions } = await createTestClient(server);
			await signIn(server, client, carol.did);
			const events: OAuthSessionEvent[] = [];
			client.addEventListener((event) => events.push(event));

			// carol's DID document now names a PDS whose authorization server is another issuer
			server.updateAccount(carol.did, { pdsEndpoint: other.pdsUrl });
			const error = await refreshError(client.restore(carol.did, { refresh: true }));
			expect(error).toBeInstanceOf(TokenRefreshError);
			expect(error).toMatchObject({ did: carol.did, reason: 'issuer_changed' });
			expect((error as Error).cause).toMatchObject({
				field: 'issuer',
				expected: server.issuer,
				actual: other.issuer,
			});
			expect(sessions.map.has(carol.did)).toBe(false);
			// the refresh token was not used: it went to the old server only to be revoked, ending a
			// grant no one could reach any more, and the new hosts were only read
			expect(server.stats.token.refresh_token).toBe(0);
			expect(server.sessions(carol.did).map((grant) => grant.active)).toEqual([false]);
			expect(other.stats.requests.length).toBeGreaterThan(0);
			for (const request of other.stats.requests) {
				expect(request).toMatchObject({ method: 'GET' });
				expect(request.path).toMatch(/^\/\.well-known\/oauth-/);
			}
			await expect.poll(() => events).toEqual([{ type: 'deleted', sub: carol.did, cause: 'issuer_changed' }]);
		} finally {
			await other.close();
		}
	});

	it('ends the session when the new PDS names another issuer that cannot be reached', async () => {
		// a port nothing listens on: the new authorization server is down (and may stay down)
		const closed = createServer();
		await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
		const downIssuer = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
		await new Promise<void>((resolve) => closed.close(() => resolve()));
		const newPds = createServer((request, response) => {
			if (request.url !== '/.well-known/oauth-protected-resource') return response.writeHead(404).end();
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end(JSON.stringify({ resource: newPdsUrl, authorization_servers: [downIssuer] }));
		});
		await new Promise<void>((resolve) => newPds.listen(0, '127.0.0.1', resolve));
		const newPdsUrl = `http://127.0.0.1:${(newPds.address() as AddressInfo).port}`;
		try {
			const carol = newAccount();
			let askedDown = 0;
			const counting: typeof fetch = (input, init) => {
				if (String(input instanceof Request ? input.url : input).startsWith(downIssuer)) askedDown++;
				return fetch(input, init);
			};
			const { client, sessions } = await createTestClient(server, { fetch: counting });
			await signIn(server, client, carol.did);
			server.updateAccount(carol.did, { pdsEndpoint: newPdsUrl });

			// not a transient failure to retry for as long as that server is down: the account left
			const error = await refreshError(client.restore(carol.did, { refresh: true }));
			expect(error).toBeInstanceOf(TokenRefreshError);
			expect(error).toMatchObject({ did: carol.did, reason: 'issuer_changed' });
			expect((error as Error).cause).toMatchObject({ expected: server.issuer, actual: downIssuer });
			// asked once: a server out of reach asked again at once would double the wait, in the lock
			expect(askedDown).toBe(1);
			expect(sessions.map.has(carol.did)).toBe(false);
			expect(server.stats.token.refresh_token ?? 0).toBe(0);
			expect(server.sessions(carol.did).map((grant) => grant.active)).toEqual([false]);
		} finally {
			await new Promise<void>((resolve) => newPds.close(() => resolve()));
		}
	});

	it('keeps the session when its PDS names another issuer that answers and disowns the PDS', async () => {
		const other = await startTestOAuthServer();
		try {
			const { client, sessions } = await createTestClient(server);
			await signIn(server, client, alice.did);
			const before = sessions.map.get(alice.did);
			// a PDS misconfigured for a while: the issuer it names does not list it
			server.behaviour.resourceMetadataOverrides = { authorization_servers: [other.issuer] };
			const error = await refreshError(client.restore(alice.did, { refresh: true }));
			expect(error).toMatchObject({ name: 'DiscoveryError', code: 'mismatch', transient: false });
			expect(sessions.map.get(alice.did)).toEqual(before);
			expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });

			server.behaviour.resourceMetadataOverrides = undefined;
			await expect(client.restore(alice.did, { refresh: true })).resolves.toBeTruthy();
		} finally {
			await other.close();
		}
	});

	it('bounds the revocation at the old issuer, which it makes under the lock, to 5 s', async () => {
		const other = await startTestOAuthServer();
		try {
			const carol = newAccount();
			const { client } = await createTestClient(server);
			await signIn(server, client, carol.did);
			server.updateAccount(carol.did, { pdsEndpoint: other.pdsUrl });
			// the old issuer takes a minute to answer a revocation (the request's own limit is 10 s)
			server.behaviour.revokeDelayMs = 60_000;

			const started = performance.now();
			const error = await refreshError(client.restore(carol.did, { refresh: true }));
			expect(error).toMatchObject({ reason: 'issuer_changed' });
			expect(performance.now() - started).toBeLessThan(8_000);
		} finally {
			await other.close();
		}
	}, 15_000);

	for (const failure of ['status_503', 'network'] as const) {
		it(`keeps the session and sends no refresh when the identity cannot be resolved (${failure})`, async () => {
			const { client, sessions } = await createTestClient(server);
			await signIn(server, client, alice.did);
			const before = sessions.map.get(alice.did);
			server.behaviour.didDocumentFailure = failure;

			const error = await refreshError(client.restore(alice.did, { refresh: true }));
			expect(error).toBeInstanceOf(OAuthTransientError);
			expect(error).toMatchObject({ kind: 'identity', transient: true, code: 'ERR_OAUTH_TRANSIENT' });
			expect((error as Error).cause).toMatchObject({ reason: 'unavailable', transient: true });
			expect(server.stats.token.refresh_token).toBe(0);
			expect(sessions.map.get(alice.did)).toEqual(before);

			// once the directory answers again, the same session refreshes
			server.behaviour.didDocumentFailure = undefined;
			await expect(client.restore(alice.did, { refresh: true })).resolves.toBeTruthy();
			expect(server.stats.token.refresh_token).toBe(1);
		});
	}

	it('keeps the session but throws a permanent, non-transient error when the identity is gone for good', async () => {
		// the DID document as the directory serves it, rewritten as each case needs
		let rewrite: ((doc: { id: string; service?: unknown }) => void) | undefined;
		const plc = new PlcDidDocumentResolver({ apiUrl: server.plcUrl });
		const actorResolver = new LocalActorResolver({
			handleResolver: new XrpcHandleResolver({ serviceUrl: server.pdsUrl }),
			didDocumentResolver: {
				resolve: async (did, options) => {
					const doc = await plc.resolve(did as never, options);
					rewrite?.(doc as never);
					return doc;
				},
			} as DidDocumentResolver,
		});
		const erin = newAccount();
		const { client, sessions } = await createTestClient(server, { actorResolver });
		await signIn(server, client, erin.did);
		const before = sessions.map.get(erin.did);

		const cases: [string, () => void, string][] = [
			[
				'the document names no PDS',
				() => {
					rewrite = (doc) => {
						doc.service = [];
					};
				},
				'invalid_document',
			],
			[
				'the document is another DID’s',
				() => {
					rewrite = (doc) => {
						doc.id = alice.did;
					};
				},
				'invalid_document',
			],
			['the DID is gone from the directory', () => server.deleteAccount(erin.did), 'not_found'],
		];
		for (const [name, act, reason] of cases) {
			act();
			// a retry finds it as gone: not a passing failure, twice over
			for (let attempt = 0; attempt < 2; attempt++) {
				const error = await refreshError(client.restore(erin.did, { refresh: true }));
				expect(error, name).toBeInstanceOf(IdentityResolutionError);
				expect(error, name).not.toBeInstanceOf(OAuthTransientError);
				expect(error, name).toMatchObject({ reason, transient: false, identifier: erin.did });
			}
			rewrite = undefined;
		}
		expect(server.stats.token.refresh_token).toBe(0);
		expect(sessions.map.get(erin.did)).toEqual(before);
	});

	it('follows the account to a new PDS under the same issuer', async () => {
		const dave = newAccount();
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, dave.did);
		// the same PDS under another spelling of its origin stands in for a move within the issuer
		const moved = server.pdsUrl.replace('127.0.0.1', 'localhost');
		server.updateAccount(dave.did, { pdsEndpoint: moved });
		server.behaviour.resourceMetadataOverrides = { resource: moved };
		server.behaviour.metadataOverrides = { protected_resources: [server.pdsUrl, moved] };

		const session = await client.restore(dave.did, { refresh: true });
		expect(session.serviceUrl).toBe(moved);
		expect(sessions.map.get(dave.did)!.tokenSet.aud).toBe(moved);
	});

	it("traces a request that a refresh on its way moved to the new PDS with the new PDS's origin", async () => {
		const dave = newAccount();
		const traced: Record<string, unknown>[] = [];
		const tracer: OAuthTracer = {
			trace(operation, context, fn) {
				if (operation === 'request') traced.push(context as Record<string, unknown>);
				return fn();
			},
		};
		const { client, clock } = await createTestClient(server, { tracer });
		const { session } = await signIn(server, client, dave.did);
		const moved = server.pdsUrl.replace('127.0.0.1', 'localhost');
		server.updateAccount(dave.did, { pdsEndpoint: moved });
		server.behaviour.resourceMetadataOverrides = { resource: moved };
		server.behaviour.metadataOverrides = { protected_resources: [server.pdsUrl, moved] };
		// the token goes stale: the next call refreshes first, and follows the account
		clock.advance(2 * 3600 * 1000);

		// (the test server's PDS, under its other name, refuses the proof's URL: what matters here is
		// which server the trace names)
		const response = await session.handle('/xrpc/com.atproto.server.getSession');
		expect(session.serviceUrl).toBe(moved);
		expect(traced).toHaveLength(1);
		expect(traced[0]).toMatchObject({ origin: new URL(moved).origin, status: response.status });
	});

	for (const [name, refuse] of [
		['without a DPoP-Nonce header', (behaviour) => (behaviour.omitDpopNonceHeader = true)],
		['that is not DPoP', (behaviour) => (behaviour.tokenTypeOverride = 'Bearer')],
		['without the atproto scope', (behaviour) => (behaviour.tokenScopeOverride = 'transition:generic')],
	] as const satisfies [string, (behaviour: TestOAuthServer['behaviour']) => unknown][]) {
		it(`ends the session on a refreshed token response ${name}, and revokes its tokens`, async () => {
			const { client, sessions } = await createTestClient(server);
			await signIn(server, client, alice.did);
			const events: OAuthSessionEvent[] = [];
			client.addEventListener((event) => events.push(event));
			refuse(server.behaviour);

			const error = await refreshError(client.restore(alice.did, { refresh: true }));
			expect(error).toBeInstanceOf(TokenRefreshError);
			expect(error).toMatchObject({ did: alice.did, reason: 'invalid_response' });
			expect((error as Error).cause).toBeInstanceOf(InvalidResponseError);
			expect(server.stats.token.refresh_token).toBe(1);
			// the old refresh token is spent and the new grant revoked: the session cannot work again
			expect(sessions.map.has(alice.did)).toBe(false);
			expect(server.sessions(alice.did).at(-1)).toMatchObject({
				active: false,
				revokedReason: 'revoked by the client',
			});
			await vi.waitFor(() =>
				expect(events).toContainEqual({ type: 'deleted', sub: alice.did, cause: 'invalid_response' }),
			);
		});
	}

	it('reports metadata that cannot be fetched before a refresh as transient, keeping the session', async () => {
		const { client, sessions, key } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did);
		// another process on the same store, whose authorization server metadata request fails
		const unreachable: typeof fetch = async (input, init) => {
			if (String(input).includes('/.well-known/oauth-authorization-server'))
				throw new TypeError('fetch failed');
			return fetch(input, init);
		};
		const { client: other } = await createTestClient(server, { key, sessions, fetch: unreachable });

		const error = await refreshError(other.restore(alice.did, { refresh: true }));
		expect(error).toBeInstanceOf(OAuthTransientError);
		expect(error).toMatchObject({ kind: 'network' });
		expect((error as Error).message).toContain(server.issuer);
		expect(server.stats.token.refresh_token).toBe(0);
		expect(sessions.map.get(alice.did)).toEqual(before);
	});

	describe("while the authorization server's metadata is a front server's page served with 200", () => {
		/** alice signed in, and another process on the same store whose metadata request gets the page. */
		const duringMaintenance = async () => {
			const first = await env.createTestClient(server);
			await signIn(server, first.client, alice.did);
			const page: typeof fetch = async (input, init) => {
				if (String(input).includes('/.well-known/oauth-authorization-server')) {
					return new Response('<html>down for maintenance</html>', {
						status: 200,
						headers: { 'content-type': 'text/html' },
					});
				}
				return fetch(input, init);
			};
			const other = await env.createTestClient(server, {
				key: first.key,
				sessions: first.sessions,
				fetch: page,
			});
			return { sessions: first.sessions, before: first.sessions.map.get(alice.did), other: other.client };
		};

		it('calls on with an access token inside its refresh margin, as during an outage', async () => {
			const { sessions, before, other } = await duringMaintenance();
			// 30 s before the token expires: inside the refresh margin, still good at the PDS
			env.clock.advance(3600_000 - 30_000);
			const session = await other.restore(alice.did);
			const response = await session.handle('/xrpc/com.atproto.server.getSession');
			expect(response.status).toBe(200);
			expect(server.stats.token.refresh_token).toBe(0);
			expect(sessions.map.get(alice.did)).toEqual(before);
		});

		it('throws the refusal once the token has expired, keeping the session', async () => {
			const { sessions, before, other } = await duringMaintenance();
			env.clock.advance(3600_000 + 1_000);
			const error = await refreshError(other.restore(alice.did));
			expect(error).toBeInstanceOf(DiscoveryError);
			expect(error).toMatchObject({ code: 'bad_content_type' });
			expect(sessions.map.get(alice.did)).toEqual(before);
		});
	});

	it('throws a refusal of the token endpoint by the fetch as it is, not as transient, keeping the session', async () => {
		const { client, sessions, key } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did);
		// another process whose fetch refuses the token endpoint on purpose, as an SSRF guard does
		// for a private address, and wraps its refusal as fetch does
		const refusal = Object.assign(new Error('refused: the token endpoint is on a private address'), {
			transient: false,
		});
		const guarded: typeof fetch = async (input, init) => {
			if (String(input).endsWith('/oauth/token')) throw new TypeError('fetch failed', { cause: refusal });
			return fetch(input, init);
		};
		const { client: other } = await createTestClient(server, { key, sessions, fetch: guarded });

		const error = await refreshError(other.restore(alice.did, { refresh: true }));
		expect(error).toBe(refusal);
		expect(server.stats.token.refresh_token).toBe(0);
		expect(sessions.map.get(alice.did)).toEqual(before);
	});

	it('gives up on a DID that does not resolve within timeout before a refresh, keeping the session and freeing its lock', async () => {
		let hang = false;
		const plc = new PlcDidDocumentResolver({ apiUrl: server.plcUrl });
		// a DID document host that answers for ever, and ignores the signal it is given
		const documents: DidDocumentResolver = {
			resolve: (did, options) => (hang ? new Promise(() => {}) : plc.resolve(did as never, options)),
		} as DidDocumentResolver;
		const actorResolver = new LocalActorResolver({
			handleResolver: new XrpcHandleResolver({ serviceUrl: server.pdsUrl }),
			didDocumentResolver: documents,
		});
		// the sign-in's requests take the same limit: 300 ms could pass in a loaded machine's stall
		const { client, sessions } = await createTestClient(server, { actorResolver, timeout: 1_000 });
		await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did);

		hang = true;
		const error = await refreshError(client.restore(alice.did, { refresh: true }));
		expect(error).toBeInstanceOf(OAuthTransientError);
		expect(error).toMatchObject({ kind: 'identity' });
		expect(server.stats.token.refresh_token).toBe(0);
		expect(sessions.map.get(alice.did)).toEqual(before);

		// the account's lock was let go: the next refresh goes through
		hang = false;
		await client.restore(alice.did, { refresh: true });
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('also revokes the refresh token it used when a refused refresh answer brought none', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		// a server that does not rotate refresh tokens: the one the session holds stays valid there
		server.behaviour.omitRefreshToken = true;
		server.behaviour.tokenTypeOverride = 'Bearer';

		const error = await refreshError(client.restore(alice.did, { refresh: true }));
		expect(error).toMatchObject({ reason: 'invalid_response' });
		expect(sessions.map.has(alice.did)).toBe(false);
		// the answer's access token, then the refresh token the request used
		expect(server.stats.revoke).toBe(2);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: false });
	});

	// a gateway in front of the token endpoint answers the refresh itself, 200 and no tokens: the
	// server never saw the refresh token, so nothing was spent and nothing may be revoked
	for (const [body, expected, kept] of [
		['{"error":"temporarily_unavailable","error_description":"try later"}', OAuthTransientError, true],
		['{"error":"server_error"}', OAuthTransientError, true],
		['{"unexpected":true}', InvalidResponseError, true],
		['{"error":"invalid_grant"}', TokenRefreshError, false],
	] as const) {
		it(`classifies a 200 refresh answer without tokens, ${body}, as the error it carries`, async () => {
			let gateway = false;
			const fetchVia: typeof fetch = async (input, init) => {
				if (gateway && String(input) === `${server.issuer}/oauth/token`) {
					return new Response(body, {
						status: 200,
						headers: { 'content-type': 'application/json', 'dpop-nonce': server.nonces.as },
					});
				}
				return fetch(input, init);
			};
			const { client, sessions } = await createTestClient(server, { fetch: fetchVia });
			await signIn(server, client, alice.did);
			const before = sessions.map.get(alice.did);
			const events: OAuthSessionEvent[] = [];
			client.addEventListener((event) => events.push(event));
			gateway = true;

			const error = await refreshError(client.restore(alice.did, { refresh: true }));
			expect(error).toBeInstanceOf(expected);
			expect(error).not.toMatchObject({ reason: 'invalid_response' });
			// nothing was issued: nothing is revoked, and the grant stays live at the server
			expect(server.stats.revoke).toBe(0);
			expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
			if (kept) {
				expect(sessions.map.get(alice.did)).toEqual(before);
				expect(events).toEqual([]);
				// the same session refreshes once the server answers again
				gateway = false;
				await client.restore(alice.did, { refresh: true });
				expect(server.stats.token.refresh_token).toBe(1);
			} else {
				// the server's own refusal still ends the session
				expect(error).toMatchObject({ reason: 'invalid_grant' });
				expect(sessions.map.has(alice.did)).toBe(false);
			}
		});
	}

	// the token endpoint's 200 answer, cut after a few bytes: by a dropped connection, or by a
	// stream that stalls until the client's own time limit ends it
	const cutTokenAnswer =
		(how: 'reset' | 'stall'): typeof fetch =>
		async (input, init) => {
			const response = await fetch(input, init);
			if (!String(input).endsWith('/oauth/token') || response.status !== 200) return response;
			const text = await response.text();
			const headers = new Headers(response.headers);
			headers.delete('content-length');
			const body = new ReadableStream<Uint8Array>({
				start(controller) {
					controller.enqueue(new TextEncoder().encode(text.slice(0, 20)));
					if (how === 'reset') setTimeout(() => controller.error(new TypeError('terminated')), 10);
					else init?.signal?.addEventListener('abort', () => controller.error(init.signal!.reason));
				},
			});
			return new Response(body, { status: 200, headers });
		};

	for (const [how, kind] of [
		['reset', 'network'],
		['stall', 'timeout'],
	] as const) {
		it(`reports a token answer cut off mid-body (${how}) as transient ${kind}, keeping the session`, async () => {
			const { client, sessions, key } = await createTestClient(server);
			await signIn(server, client, alice.did);
			const before = sessions.map.get(alice.did);
			const { client: other } = await createTestClient(server, {
				key,
				sessions,
				fetch: cutTokenAnswer(how),
				// the discovery before the refresh takes the same limit: not less than a loaded machine's stall
				timeout: 1_000,
			});

			const error = await refreshError(other.restore(alice.did, { refresh: true }));
			expect(error).toBeInstanceOf(OAuthTransientError);
			expect(error).toMatchObject({ kind, transient: true });
			expect(sessions.map.get(alice.did)).toEqual(before);
		});
	}

	it("keeps the session when a refresh's invalid_grant comes from another server, through a redirect the app's fetch followed", async () => {
		let redirected = false;
		// an app's fetch (a wrapper, an egress proxy) that follows redirects whatever `redirect`
		// says: the token request lands on a login page's server, which refuses it
		const following: typeof fetch = async (input, init) => {
			if (redirected && String(input) === `${server.issuer}/oauth/token`) {
				const response = Response.json(
					{ error: 'invalid_grant', error_description: 'login required' },
					{ status: 400 },
				);
				Object.defineProperty(response, 'redirected', { value: true });
				Object.defineProperty(response, 'url', { value: 'https://sso.proxy.example/login' });
				return response;
			}
			return fetch(input, init);
		};
		const { client, sessions } = await createTestClient(server, { fetch: following });
		await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did);
		redirected = true;

		const error = await refreshError(client.restore(alice.did, { refresh: true }));
		expect(error).toBeInstanceOf(InvalidResponseError);
		expect(sessions.map.get(alice.did)).toEqual(before);
		// the server never saw the refresh token: the grant is live, and refreshes once reached
		redirected = false;
		await client.restore(alice.did, { refresh: true });
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('keeps the session when a refreshed token response cannot be read at all', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did);
		server.behaviour.oversizedTokenResponse = true;

		const error = await refreshError(client.restore(alice.did, { refresh: true }));
		expect(error).toBeInstanceOf(InvalidResponseError);
		// an unreadable answer is no verdict on the session: nothing could be revoked either
		expect(sessions.map.get(alice.did)).toEqual(before);
	});

	it('accepts a token response without a DPoP-Nonce header with dangerouslySkipDpopNonceCheck', async () => {
		const { client, sessions } = await createTestClient(server, { dangerouslySkipDpopNonceCheck: true });
		await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did)!.tokenSet.access_token;
		server.behaviour.omitDpopNonceHeader = true;

		await client.restore(alice.did, { refresh: true });
		expect(sessions.map.get(alice.did)!.tokenSet.access_token).not.toBe(before);
	});

	it('ends the session and revokes the new tokens when they cannot be stored after the refresh', async () => {
		const revoked: string[] = [];
		const recording: typeof fetch = async (input, init) => {
			if (String(input) === `${server.issuer}/oauth/revoke`) {
				revoked.push(new URLSearchParams(String(init?.body)).get('token')!);
			}
			return fetch(input, init);
		};
		const { client, sessions } = await createTestClient(server, { fetch: recording });
		await signIn(server, client, alice.did);
		const events: OAuthSessionEvent[] = [];
		client.addEventListener((event) => events.push(event));
		const set = sessions.set.bind(sessions);
		sessions.set = async () => {
			throw new Error('store down');
		};

		const error = await refreshError(client.restore(alice.did, { refresh: true }));
		sessions.set = set;
		expect(error).toBeInstanceOf(TokenRefreshError);
		expect(error).toMatchObject({ reason: 'store_failed', cause: { message: 'store down' } });
		expect(sessions.map.has(alice.did)).toBe(false);
		// the refresh token just issued is revoked: nothing live is left behind
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: false });
		// by the refresh token, which ends the whole grant at any server (an access token may not)
		expect(revoked).toEqual([server.sessions(alice.did).at(-1)!.refreshToken]);
		await expect.poll(() => events).toEqual([{ type: 'deleted', sub: alice.did, cause: 'store_failed' }]);
	});

	it('rejects a tracer without a trace method', async () => {
		await expect(createTestClient(server, { tracer: {} as never })).rejects.toThrow(/tracer must be/);
	});

	it('rejects a dangerouslySkipDpopNonceCheck that is not a boolean', async () => {
		await expect(
			createTestClient(server, { dangerouslySkipDpopNonceCheck: 'yes' as unknown as boolean }),
		).rejects.toThrow(/dangerouslySkipDpopNonceCheck must be a boolean/);
	});
});
