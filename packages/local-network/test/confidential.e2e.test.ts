import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import {
	AuthMethodUnsatisfiableError,
	generatePrivateKey,
	OAuthCallbackError,
	type OAuthClient,
	type OAuthSession,
	type PrivateKey,
	SessionNotFoundError,
	TokenRefreshError,
} from '@atcute/oauth-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type LocalAccount, type LocalNetwork, type PdsRequest, startLocalNetwork } from '../src/index.ts';
import {
	authorizeOnly,
	type ClientDocuments,
	createConfidentialClient,
	createStores,
	observingFetch,
	START_TIMEOUT_MS,
	serveClientDocuments,
	signIn,
	TEST_TIMEOUT_MS,
	type TestStores,
} from './helpers.ts';

let network: LocalNetwork;
let alice: LocalAccount;
let bob: LocalAccount;
const documents: ClientDocuments[] = [];

beforeAll(async () => {
	network = await startLocalNetwork({
		accounts: [{ handle: 'alice.test' }, { handle: 'bob.test' }],
		traceRequests: true,
	});
	[alice, bob] = network.accounts as [LocalAccount, LocalAccount];
}, START_TIMEOUT_MS);

afterAll(async () => {
	await Promise.all(documents.map((served) => served.close()));
	await network?.close();
});

/** a new client_id (a new https server): the provider caches client metadata for 10 minutes. */
const newDocuments = async (): Promise<ClientDocuments> => {
	const served = await serveClientDocuments(network.tls);
	documents.push(served);
	return served;
};

/** the session's own getSession, through `@atcute/client` as the seed shows it. */
const getSession = async (session: OAuthSession) => {
	const client = new Client({ handler: session });
	return client.get('com.atproto.server.getSession', {});
};

/** the requests the PDS answered from now on. */
const watchRequests = async () => {
	const from = (await network.syncRequests()).length;
	return async (method: string, path: string): Promise<PdsRequest[]> =>
		(await network.syncRequests()).slice(from).filter((r) => r.method === method && r.path === path);
};

describe('a confidential client (private_key_jwt, ES256) against the reference PDS', {
	timeout: TEST_TIMEOUT_MS,
}, () => {
	let served: ClientDocuments;
	let oauth: OAuthClient;
	let stores: TestStores;
	let keyset: PrivateKey[];

	beforeAll(async () => {
		served = await newDocuments();
		stores = createStores();
		keyset = [await generatePrivateKey('main', 'ES256')];
		oauth = createConfidentialClient({ network, documents: served, keyset, stores });
	});

	it('signs in by handle; a Client on the session gets the right DID from getSession', async () => {
		const { session, state } = await signIn(oauth, network, alice, 'handle');
		expect(session.did).toBe(alice.did);
		expect(state).toEqual({ returnTo: '/protected' });

		// the authorization server fetched the metadata and the keys over https, from our server
		expect(served.fetched).toContain('/oauth-client-metadata.json');
		expect(served.fetched).toContain('/jwks.json');
		expect(oauth.metadata).toMatchObject({
			token_endpoint_auth_method: 'private_key_jwt',
			token_endpoint_auth_signing_alg: 'ES256',
			jwks_uri: served.jwksUri,
		});

		const response = await getSession(session);
		expect(response.ok).toBe(true);
		expect(response.data).toMatchObject({ did: alice.did, handle: alice.handle });
		expect(session.getTokenInfo()).toMatchObject({
			iss: network.issuer,
			sub: alice.did,
			aud: network.pdsUrl,
		});
		expect(session.scope.split(' ')).toEqual(expect.arrayContaining(['atproto', 'transition:generic']));
	});

	it('signs in by DID', async () => {
		const { session } = await signIn(oauth, network, bob, 'did');
		const response = await getSession(session);
		expect(response.data).toMatchObject({ did: bob.did, handle: bob.handle });
	});

	it('signs in by PDS URL (the account is chosen on the sign-in page)', async () => {
		const { session } = await signIn(oauth, network, alice, 'pds');
		expect(session.did).toBe(alice.did);
		const response = await getSession(session);
		expect(response.data).toMatchObject({ did: alice.did });
	});

	it('refreshes on demand: new tokens, one token request, and the PDS still answers', async () => {
		const { session } = await signIn(oauth, network, alice);
		const before = (await stores.sessions.get(alice.did))!.tokenSet;
		const tokenRequests = await watchRequests();

		await session.refresh();

		const after = (await stores.sessions.get(alice.did))!.tokenSet;
		expect(after.access_token).not.toBe(before.access_token);
		expect(after.refresh_token).not.toBe(before.refresh_token);
		expect(await tokenRequests('POST', '/oauth/token')).toHaveLength(1);
		expect((await getSession(session)).data).toMatchObject({ did: alice.did });
		// and through restore(), as an app does on its next request
		const restored = await oauth.restore(alice.did, { refresh: true });
		expect((await getSession(restored)).data).toMatchObject({ did: alice.did });
	});

	it('20 concurrent calls after the access token expires make one refresh at the server', async () => {
		await signIn(oauth, network, alice);
		const stored = (await stores.sessions.get(alice.did))!;
		// the PDS's tokens live an hour: the client is told this one has expired (as an hour later)
		await stores.sessions.set(alice.did, {
			...stored,
			tokenSet: { ...stored.tokenSet, expires_at: Date.now() - 1_000 },
		});
		const tokenRequests = await watchRequests();

		const responses = await Promise.all(
			Array.from({ length: 20 }, async () => getSession(await oauth.restore(alice.did))),
		);

		for (const response of responses) expect(response.data).toMatchObject({ did: alice.did });
		const refreshes = await tokenRequests('POST', '/oauth/token');
		expect(refreshes).toEqual([expect.objectContaining({ status: 200 })]);
		const fresh = (await stores.sessions.get(alice.did))!.tokenSet;
		expect(fresh.access_token).not.toBe(stored.tokenSet.access_token);
		expect(fresh.expires_at).toBeGreaterThan(Date.now());
	});

	it("a new process's 20 calls at once, its DPoP nonce not known yet: the PDS refuses one for its nonce, not 20", async () => {
		await signIn(oauth, network, alice);
		// another process of the app: the same stores and keys, nonces of its own (none yet)
		const fresh = createConfidentialClient({ network, documents: served, keyset, stores });
		const session = await fresh.restore(alice.did);
		const calls = await watchRequests();

		const responses = await Promise.all(Array.from({ length: 20 }, () => getSession(session)));

		for (const response of responses) expect(response.data).toMatchObject({ did: alice.did });
		const statuses = (await calls('GET', '/xrpc/com.atproto.server.getSession')).map((r) => r.status);
		expect(statuses.sort()).toEqual([...Array(20).fill(200), 401]);
	});

	it('signOut(): the old access token gets 401 and the refresh token is refused', async () => {
		const observed = observingFetch();
		const observedStores = createStores();
		const watched = createConfidentialClient({
			network,
			documents: await newDocuments(),
			keyset: [await generatePrivateKey('main', 'ES256')],
			stores: observedStores,
			fetch: observed.fetch,
		});
		const { session } = await signIn(watched, network, alice);
		const old = structuredClone((await observedStores.sessions.get(alice.did))!);
		const revocations = await watchRequests();

		await session.signOut();

		expect(await observedStores.sessions.get(alice.did)).toBeUndefined();
		// the refresh token (which ends the grant) and the access token
		expect((await revocations('POST', '/oauth/revoke')).map((r) => r.status)).toEqual([200, 200]);

		// put the signed-out tokens back, as an attacker who copied them would hold them
		await observedStores.sessions.set(alice.did, old);
		const stale = await watched.restore(alice.did, { refresh: false });
		observed.seen.length = 0;

		const error = await getSession(stale).catch((error: unknown) => error);

		// the PDS refused the access token ...
		const call = observed.seen.find((seen) => seen.url.endsWith('/xrpc/com.atproto.server.getSession'));
		expect(call).toMatchObject({ status: 401 });
		expect(call?.wwwAuthenticate).toMatch(/^DPoP\b.*error="invalid_token"/);
		// ... and the authorization server the refresh token: the session is gone
		const refresh = observed.seen.filter((seen) => seen.url === `${network.issuer}/oauth/token`).at(-1);
		expect(refresh).toMatchObject({ status: 400 });
		expect(error).toBeInstanceOf(TokenRefreshError);
		expect(error).toMatchObject({ did: alice.did, reason: 'invalid_grant' });
		expect(await observedStores.sessions.get(alice.did)).toBeUndefined();
	});

	it('a user who denies consent makes callback() throw OAuthCallbackError with access_denied', async () => {
		const params = await authorizeOnly(oauth, alice, { decision: 'deny' });
		expect(params.get('error')).toBe('access_denied');
		expect(params.get('iss')).toBe(network.issuer);

		const error = await oauth.callback(params).catch((error: unknown) => error);
		expect(error).toBeInstanceOf(OAuthCallbackError);
		expect(error).toMatchObject({ name: 'OAuthCallbackError', error: 'access_denied' });
		// the state was used up: the same redirect cannot be replayed
		await expect(oauth.callback(params)).rejects.toMatchObject({ error: 'invalid_state' });
	});
});

describe('client keys', { timeout: TEST_TIMEOUT_MS }, () => {
	it('keys inline in the metadata (`jwks`, no `jwks_uri`) work too', async () => {
		const served = await newDocuments();
		const oauth = createConfidentialClient({
			network,
			documents: served,
			keyset: [await generatePrivateKey('inline', 'ES256')],
			jwks: 'inline',
		});
		expect(oauth.metadata.jwks_uri).toBeUndefined();
		expect(oauth.metadata.jwks?.keys).toEqual([expect.objectContaining({ kid: 'inline', alg: 'ES256' })]);

		const { session } = await signIn(oauth, network, alice);
		expect((await getSession(session)).data).toMatchObject({ did: alice.did });
		// the provider never needed the JWKS document
		expect(served.fetched).toEqual(['/oauth-client-metadata.json']);
	});

	it('a new key put first while the server still holds the old JWKS: the sign-in falls back to the old key, and its session refreshes', async () => {
		const served = await newDocuments();
		const stores = createStores();
		const main = await generatePrivateKey('main', 'ES256');
		const before = createConfidentialClient({ network, documents: served, keyset: [main], stores });
		await signIn(before, network, alice);
		const jwksReads = served.fetched.filter((path) => path === '/jwks.json').length;

		// the rotation's second step done at once: the provider keeps the JWKS it read (10 minutes)
		const next = await generatePrivateKey('next', 'ES256');
		const after = createConfidentialClient({ network, documents: served, keyset: [next, main], stores });
		const { session } = await signIn(after, network, alice);
		expect(served.fetched.filter((path) => path === '/jwks.json')).toHaveLength(jwksReads);
		expect((await stores.sessions.get(alice.did))!.authMethod).toMatchObject({
			method: 'private_key_jwt',
			kid: 'main',
		});
		// the grant is bound to the key the request was pushed with: a refresh with it is taken
		await session.refresh();
		expect((await getSession(session)).data).toMatchObject({ did: alice.did });
	});

	it('new key material under the kid a session is bound to: the session ends with AuthMethodUnsatisfiableError, nothing sent', async () => {
		const served = await newDocuments();
		const stores = createStores();
		const before = createConfidentialClient({
			network,
			documents: served,
			keyset: [await generatePrivateKey('main', 'ES256')],
			stores,
		});
		await signIn(before, network, bob);

		// the kid reused for a new key: the server holds the grant to the old one
		const after = createConfidentialClient({
			network,
			documents: served,
			keyset: [await generatePrivateKey('main', 'ES256')],
			stores,
		});
		const tokenRequests = await watchRequests();
		const error = await after.restore(bob.did, { refresh: true }).catch((error: unknown) => error);
		expect(error).toBeInstanceOf(AuthMethodUnsatisfiableError);
		expect(error).toMatchObject({ did: bob.did, kid: 'main', replaced: true });
		expect(await tokenRequests('POST', '/oauth/token')).toEqual([]);
		expect(await stores.sessions.get(bob.did)).toBeUndefined();
	});

	it('a keyset of two keys: once the key the session is bound to is removed, it ends with AuthMethodUnsatisfiableError', async () => {
		const served = await newDocuments();
		const stores = createStores();
		const keys = [await generatePrivateKey('key-1', 'ES256'), await generatePrivateKey('key-2', 'ES256')];
		const before = createConfidentialClient({ network, documents: served, keyset: keys, stores });
		expect(before.jwks?.keys.map((key) => key.kid)).toEqual(['key-1', 'key-2']);

		await signIn(before, network, bob);
		const stored = (await stores.sessions.get(bob.did))!;
		expect(stored.authMethod.method).toBe('private_key_jwt');
		const boundKid = (stored.authMethod as { kid: string }).kid;
		expect(['key-1', 'key-2']).toContain(boundKid);

		// the app rotates: same client_id and stores, the bound key gone from the keyset
		const remaining = keys.filter((key) => key.kid !== boundKid);
		const after = createConfidentialClient({ network, documents: served, keyset: remaining, stores });

		const error = await after.restore(bob.did).catch((error: unknown) => error);
		expect(error).toBeInstanceOf(AuthMethodUnsatisfiableError);
		expect(error).toMatchObject({ name: 'AuthMethodUnsatisfiableError', did: bob.did, kid: boundKid });
		expect(error).not.toBeInstanceOf(TokenRefreshError);
		expect(await stores.sessions.get(bob.did)).toBeUndefined();
		await expect(after.restore(bob.did)).rejects.toBeInstanceOf(SessionNotFoundError);

		// a new sign-in uses the remaining key
		const { session } = await signIn(after, network, bob);
		expect((await stores.sessions.get(bob.did))!.authMethod).toMatchObject({
			method: 'private_key_jwt',
			kid: remaining[0]!.kid,
		});
		expect((await getSession(session)).data).toMatchObject({ did: bob.did });
	});
});
