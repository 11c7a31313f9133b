// the documented API of @atcute/oauth-node-client (the seed README), sample by sample, run against
// this package. the samples are copied as written; where a test has to differ, a comment says how.
import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import {
	CompositeDidDocumentResolver,
	CompositeHandleResolver,
	LocalActorResolver,
	PlcDidDocumentResolver,
	WebDidDocumentResolver,
	WellKnownHandleResolver,
	XrpcHandleResolver,
} from '@atcute/identity-resolver';
import { NodeDnsHandleResolver } from '@atcute/identity-resolver-node';
import type { Did } from '@atcute/lexicons';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import {
	exportJwkKey,
	generatePrivateKey,
	importJwkKey,
	MemoryStore,
	OAuthClient,
	type OAuthClientStores,
	OAuthSession,
	SessionNotFoundError,
	scope,
} from './index.ts';

// the scope the seed's builders make, written out by hand: `atproto` first (added by the client),
// then each builder's canonical token in the order given
const SEED_SCOPE = [
	'atproto',
	'include:app.bsky.authFullApp?aud=did:web:api.bsky.app%23bsky_appview',
	'include:chat.bsky.authFullChatClient?aud=did:web:api.bsky.chat%23bsky_chat',
	'rpc:com.atproto.moderation.createReport?aud=*',
	'blob?accept=image/*&accept=video/*',
	'account:email?action=manage',
	'identity:handle',
].join(' ');

// every sample reads its key from PRIVATE_KEY_JWK, as written by scripts/setup-env.mjs
beforeAll(async () => {
	vi.stubEnv('PRIVATE_KEY_JWK', JSON.stringify(await exportJwkKey(await generatePrivateKey('main'))));
});
afterAll(() => {
	vi.unstubAllEnvs();
});

describe('seed sample: create an OAuth client', () => {
	it('builds the documented client, whose metadata carries the ids, the builders’ scope and jwks_uri', async () => {
		// the sample, verbatim but for requestLock's body (the seed leaves `// ...`)
		const oauth = new OAuthClient({
			metadata: {
				// this must be the URL where you serve `oauth.metadata`.
				client_id: 'https://example.com/oauth-client-metadata.json',
				redirect_uris: ['https://example.com/oauth/callback'],
				// scopes; shown here is an example for a full-featured Bluesky client.
				scope: [
					scope.include({
						nsid: 'app.bsky.authFullApp',
						aud: 'did:web:api.bsky.app#bsky_appview',
					}),
					scope.include({
						nsid: 'chat.bsky.authFullChatClient',
						aud: 'did:web:api.bsky.chat#bsky_chat',
					}),

					scope.rpc({ lxm: ['com.atproto.moderation.createReport'], aud: '*' }),
					scope.blob({ accept: ['image/*', 'video/*'] }),
					scope.account({ attr: 'email', action: 'manage' }),
					scope.identity({ attr: 'handle' }),
				],
				// optional: if set, this must be the URL where you serve `oauth.jwks`.
				// must be same-origin as client_id. if omitted, `oauth.metadata` will inline jwks instead.
				jwks_uri: 'https://example.com/jwks.json',
			},

			keyset: await Promise.all([importJwkKey(process.env.PRIVATE_KEY_JWK!)]),

			stores: {
				// sessions are keyed by DID - should be durable across restarts.
				// states are keyed by OAuth state value - should have ~10 minute TTL.
				// MemoryStore works for development; use Redis or similar in production.
				sessions: new MemoryStore(),
				states: new MemoryStore(),
			},
			// optional: custom lock for coordinating token refresh across processes.
			// defaults to in-memory, which works for single-process deployments.
			// for multi-process/clustered deployments, provide a distributed lock
			// (e.g., Redis-based) to prevent concurrent refresh for the same session.
			// biome-ignore lint/correctness/noUnusedFunctionParameters: the seed's signature, verbatim
			async requestLock(name, fn) {
				// a pass-through: enough for one process (the seed leaves this body as `// ...`)
				return fn();
			},

			actorResolver: new LocalActorResolver({
				handleResolver: new CompositeHandleResolver({
					methods: {
						dns: new NodeDnsHandleResolver(),
						http: new WellKnownHandleResolver(),
					},
				}),
				didDocumentResolver: new CompositeDidDocumentResolver({
					methods: {
						plc: new PlcDidDocumentResolver(),
						web: new WebDidDocumentResolver(),
					},
				}),
			}),
		});

		expect(oauth.metadata).toEqual({
			client_id: 'https://example.com/oauth-client-metadata.json',
			redirect_uris: ['https://example.com/oauth/callback'],
			scope: SEED_SCOPE,
			grant_types: ['authorization_code', 'refresh_token'],
			response_types: ['code'],
			application_type: 'web',
			token_endpoint_auth_method: 'private_key_jwt',
			token_endpoint_auth_signing_alg: 'ES256',
			dpop_bound_access_tokens: true,
			jwks_uri: 'https://example.com/jwks.json',
		});
		// with jwks_uri, the keys are served there and not inlined
		expect(oauth.metadata).not.toHaveProperty('jwks');

		// the hand-written scope is what the builders make
		expect(oauth.metadata.scope).toBe(
			[
				scope.atproto,
				scope.include({ nsid: 'app.bsky.authFullApp', aud: 'did:web:api.bsky.app#bsky_appview' }),
				scope.include({ nsid: 'chat.bsky.authFullChatClient', aud: 'did:web:api.bsky.chat#bsky_chat' }),
				scope.rpc({ lxm: ['com.atproto.moderation.createReport'], aud: '*' }),
				scope.blob({ accept: ['image/*', 'video/*'] }),
				scope.account({ attr: 'email', action: 'manage' }),
				scope.identity({ attr: 'handle' }),
			].join(' '),
		);

		// the JWKS publishes the one key, public parameters only
		const privateJwk = JSON.parse(process.env.PRIVATE_KEY_JWK!) as Record<string, unknown>;
		expect(oauth.jwks).toEqual({
			keys: [
				{
					kty: 'EC',
					crv: 'P-256',
					x: privateJwk.x,
					y: privateJwk.y,
					kid: 'main',
					alg: 'ES256',
					use: 'sig',
				},
			],
		});
		expect(JSON.stringify(oauth.jwks)).not.toContain(privateJwk.d as string);
	});
});

describe('seed sample: custom stores', () => {
	it('accepts the documented store shape as OAuthClientStores and builds a client with it', async () => {
		// the sample, a compile-time check that the documented shape is accepted. verbatim but for
		// `return undefined` in the two `get`s: with only `// ...` there, TypeScript infers
		// Promise<void>, which is not the Awaitable<StoredSession | undefined> that Store.get returns
		// biome-ignore-start lint/correctness/noUnusedFunctionParameters: the seed's signatures, verbatim
		const stores: OAuthClientStores = {
			sessions: {
				async get(did, options) {
					// ...
					return undefined;
				},
				async set(did, session) {
					// ...
				},
				async delete(did) {
					// ...
				},
				async clear() {},
			},
			states: {
				async get(stateId, options) {
					// ...
					return undefined;
				},
				async set(stateId, state) {
					// ...
				},
				async delete(stateId) {
					// ...
				},
				async clear() {},
			},
		};
		// biome-ignore-end lint/correctness/noUnusedFunctionParameters: the seed's signatures, verbatim

		const oauth = new OAuthClient({
			metadata: {
				client_id: 'https://example.com/oauth-client-metadata.json',
				redirect_uris: ['https://example.com/oauth/callback'],
				scope: [scope.transition.generic],
			},
			keyset: await Promise.all([importJwkKey(process.env.PRIVATE_KEY_JWK!)]),
			stores,
			actorResolver: new LocalActorResolver({
				handleResolver: new WellKnownHandleResolver(),
				didDocumentResolver: new PlcDidDocumentResolver(),
			}),
		});
		expect(oauth.metadata.client_id).toBe('https://example.com/oauth-client-metadata.json');

		// the empty sample store holds nothing: a restore finds no session
		await expect(oauth.restore('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')).rejects.toBeInstanceOf(
			SessionNotFoundError,
		);
	});
});

describe('seed samples: the sign-in flow', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	/** requests the test server made to https://example.com (the app), by path. */
	let appRequests: string[];

	beforeAll(async () => {
		server = await startTestOAuthServer();
		alice = server.createAccount({ handle: 'alice.test' }) as { did: Did; handle: string };
	});
	afterAll(() => server.close());
	beforeEach(() => {
		server.reset();
		appRequests = [];
	});
	afterEach(() => {
		vi.unstubAllGlobals();
	});

	/**
	 * the seed's client with two changes for the local test server: the actor resolver resolves
	 * through its PDS and PLC, and `allowHttp` lets it reach them on http://127.0.0.1. the seed's
	 * "serve metadata and jwks" routes are served at https://example.com by intercepting fetch,
	 * so that the server can fetch `jwks_uri` as a real one would.
	 */
	const createOAuth = async (
		stores: OAuthClientStores = { sessions: new MemoryStore(), states: new MemoryStore() },
	): Promise<OAuthClient> => {
		const oauth = new OAuthClient({
			metadata: {
				client_id: 'https://example.com/oauth-client-metadata.json',
				redirect_uris: ['https://example.com/oauth/callback'],
				scope: [
					scope.include({ nsid: 'app.bsky.authFullApp', aud: 'did:web:api.bsky.app#bsky_appview' }),
					scope.include({ nsid: 'chat.bsky.authFullChatClient', aud: 'did:web:api.bsky.chat#bsky_chat' }),
					scope.rpc({ lxm: ['com.atproto.moderation.createReport'], aud: '*' }),
					scope.blob({ accept: ['image/*', 'video/*'] }),
					scope.account({ attr: 'email', action: 'manage' }),
					scope.identity({ attr: 'handle' }),
				],
				jwks_uri: 'https://example.com/jwks.json',
			},
			keyset: await Promise.all([importJwkKey(process.env.PRIVATE_KEY_JWK!)]),
			stores,
			async requestLock(_name, fn) {
				return fn();
			},
			actorResolver: new LocalActorResolver({
				handleResolver: new XrpcHandleResolver({ serviceUrl: server.pdsUrl }),
				didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: server.plcUrl }),
			}),
			allowHttp: true,
		});

		// app.get('/oauth-client-metadata.json', (c) => c.json(oauth.metadata));
		// app.get('/jwks.json', (c) => c.json(oauth.jwks));
		const routes: Record<string, () => unknown> = {
			'/oauth-client-metadata.json': () => oauth.metadata,
			'/jwks.json': () => oauth.jwks,
		};
		const realFetch = globalThis.fetch;
		vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
			const url = new URL(input instanceof Request ? input.url : input);
			if (url.origin !== 'https://example.com') return realFetch(input, init);
			appRequests.push(url.pathname);
			const route = routes[url.pathname];
			return Promise.resolve(route ? Response.json(route()) : new Response('not found', { status: 404 }));
		});

		server.registerClient(oauth.metadata);
		return oauth;
	};

	/** the user's browser: from the `/login` redirect to the request that reaches `/oauth/callback`. */
	const browse = async (url: URL, did: Did): Promise<string> => {
		const params = await server.authorize(url, { did });
		return `https://example.com/oauth/callback?${params}`;
	};

	/** how many of alice's grants (token families) the server holds active, from any test. */
	const activeGrants = (): number => server.sessions(alice.did).filter((grant) => grant.active).length;

	/** the start authorization and handle the callback samples, in a row. */
	const signIn = async (oauth: OAuthClient): Promise<OAuthSession> => {
		const { url } = await oauth.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			state: { returnTo: '/protected' },
		});
		const callbackUrl = new URL(await browse(url, alice.did));
		const { session } = await oauth.callback(callbackUrl.searchParams);
		return session;
	};

	it('signs alice in through authorize and callback, handing back the app state', async () => {
		const oauth = await createOAuth();

		// start authorization: app.get('/login', …), with the test server's account
		const { url } = await oauth.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			state: { returnTo: '/protected' },
		});
		expect(`${url.origin}${url.pathname}`).toBe(`${server.issuer}/oauth/authorize`);
		// only the client id and the pushed request travel through the browser
		expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
		// c.redirect(url.toString()) sends the browser there
		const requestUrl = await browse(new URL(url.toString()), alice.did);

		// handle the callback: app.get('/oauth/callback', …)
		const callbackUrl = new URL(requestUrl);
		const { session, state } = await oauth.callback(callbackUrl.searchParams);

		const did = session.did;
		const returnTo = (state as { returnTo?: string } | undefined)?.returnTo ?? '/';

		expect(did).toBe(alice.did);
		expect(returnTo).toBe('/protected');
		expect(session).toBeInstanceOf(OAuthSession);
		expect(session.scope).toBe(SEED_SCOPE);
		// the server authenticated the client with the key served at jwks_uri
		expect(appRequests).toContain('/jwks.json');
		expect(server.sessions(alice.did)).toMatchObject([
			{
				clientId: 'https://example.com/oauth-client-metadata.json',
				authMethod: 'private_key_jwt',
				kid: 'main',
			},
		]);
		server.assertNoRejections();
	});

	it('falls back to "/" when authorize was given no state', async () => {
		const oauth = await createOAuth();
		const { url } = await oauth.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		const callbackUrl = new URL(await browse(url, alice.did));
		const { state } = await oauth.callback(callbackUrl.searchParams);

		const returnTo = (state as { returnTo?: string } | undefined)?.returnTo ?? '/';
		expect(state).toBeUndefined();
		expect(returnTo).toBe('/');
	});

	it('restores the session by DID and calls the PDS through @atcute/client', async () => {
		const oauth = await createOAuth();
		const did = (await signIn(oauth)).did;

		// session restoration, verbatim
		const session = await oauth.restore(did);
		const client = new Client({ handler: session });

		const { data } = await client.get('com.atproto.server.getSession');

		expect(data).toMatchObject({ did: alice.did, handle: 'alice.test' });
		expect(server.stats.resource).toBe(1);
		server.assertNoRejections();
	});

	it('signs out with oauth.revoke(did): the grant is revoked and the session is gone', async () => {
		const oauth = await createOAuth();
		const activeBefore = activeGrants();
		const did = (await signIn(oauth)).did;
		expect(activeGrants()).toBe(activeBefore + 1);

		await oauth.revoke(did);

		expect(activeGrants()).toBe(activeBefore);
		await expect(oauth.restore(did)).rejects.toBeInstanceOf(SessionNotFoundError);
		// revoking again is harmless
		await oauth.revoke(did);
		server.assertNoRejections();
	});

	it('signs out with session.signOut(): the grant is revoked and the session is gone', async () => {
		const oauth = await createOAuth();
		const activeBefore = activeGrants();
		const session = await signIn(oauth);
		expect(activeGrants()).toBe(activeBefore + 1);

		await session.signOut();

		expect(activeGrants()).toBe(activeBefore);
		await expect(oauth.restore(session.did)).rejects.toBeInstanceOf(SessionNotFoundError);
		// the signed-out session object cannot call the PDS any more
		await expect(
			new Client({ handler: session }).get('com.atproto.server.getSession'),
		).rejects.toBeInstanceOf(SessionNotFoundError);
	});

	it('runs on stores written in the custom-store shape, and a store without take still makes state single-use', async () => {
		// the custom stores sample with its bodies filled in over Maps, as a Redis store would be:
		// values go through JSON, and there is no atomic take
		const sessionMap = new Map<string, string>();
		const stateMap = new Map<string, string>();
		// what the client passes as get's second argument: absent, or StoreGetOptions
		const getOptions: unknown[] = [];
		const stores: OAuthClientStores = {
			sessions: {
				async get(did, options) {
					getOptions.push(options);
					const json = sessionMap.get(did);
					return json === undefined ? undefined : JSON.parse(json);
				},
				async set(did, session) {
					sessionMap.set(did, JSON.stringify(session));
				},
				async delete(did) {
					sessionMap.delete(did);
				},
				async clear() {},
			},
			states: {
				async get(stateId, options) {
					getOptions.push(options);
					const json = stateMap.get(stateId);
					return json === undefined ? undefined : JSON.parse(json);
				},
				async set(stateId, state) {
					stateMap.set(stateId, JSON.stringify(state));
				},
				async delete(stateId) {
					stateMap.delete(stateId);
				},
				async clear() {},
			},
		};
		const oauth = await createOAuth(stores);

		const { url } = await oauth.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			state: { returnTo: '/protected' },
		});
		expect(stateMap.size).toBe(1);
		const callbackUrl = new URL(await browse(url, alice.did));
		const { session } = await oauth.callback(callbackUrl.searchParams);
		expect(stateMap.size).toBe(0);
		expect([...sessionMap.keys()]).toEqual([alice.did]);

		// the same callback again: the state was used up
		await expect(oauth.callback(callbackUrl.searchParams)).rejects.toMatchObject({
			name: 'OAuthCallbackError',
			error: 'invalid_state',
		});

		const restored = await oauth.restore(session.did);
		const { data } = await new Client({ handler: restored }).get('com.atproto.server.getSession');
		expect(data).toMatchObject({ did: alice.did });

		await restored.signOut();
		expect(sessionMap.size).toBe(0);

		// the seed's get(did, options) must cope with options being absent
		expect(getOptions.length).toBeGreaterThan(0);
		for (const options of getOptions) {
			expect(options === undefined || (options as { signal?: unknown }).signal instanceof AbortSignal).toBe(
				true,
			);
		}
		server.assertNoRejections();
	});
});
