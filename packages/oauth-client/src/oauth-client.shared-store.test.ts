import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { SessionNotFoundError } from './errors.ts';
import { OAuthClient } from './oauth-client.ts';
import type { OAuthClientOptions } from './oauth-client-options.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	actorResolverFor,
	CLIENT_ID,
	createTestClient,
	signIn,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';

const OTHER_CLIENT_ID = 'https://other.example.com/oauth-client-metadata.json';

/** the test client's metadata under another `client_id`: a second app, or this one moved. */
const otherApp = (): Partial<OAuthClientOptions> => ({
	metadata: {
		client_id: OTHER_CLIENT_ID,
		redirect_uris: ['https://other.example.com/oauth/callback'],
		scope: ['atproto', 'transition:generic'],
	},
});

// each client_id needs its own session store: sessions are keyed by DID alone. a client of
// another client_id (two apps on one store by mistake, or this app after its client_id moved)
// finds no session of its own there: it neither uses nor ends the one stored
describe('a session stored by a client of another client_id (a shared store, or a client_id that moved)', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	it('is no session of this client: not used, refreshed or ended, and left as it is by a sign-out', async () => {
		const sessions = new MapStore<StoredSession>();
		// both apps with a key named "main", as the READMEs name it
		const ours = await createTestClient(server, { sessions });
		await signIn(server, ours.client, alice.did);
		const stored = sessions.map.get(alice.did)!;
		expect(stored.clientId).toBe(CLIENT_ID);
		const other = await createTestClient(server, { sessions, ...otherApp() });
		const resource = server.stats.resource;

		for (const refresh of ['auto', true] as const) {
			const error = await other.client.restore(alice.did, { refresh }).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(SessionNotFoundError);
			expect(error).toMatchObject({ did: alice.did, storedBy: CLIENT_ID });
			expect((error as Error).message).toBe(
				`no OAuth session for ${alice.did} of this client: the session store holds one of another client (client_id "${CLIENT_ID}"); each client_id needs its own session store`,
			);
		}
		await other.client.revoke(alice.did);
		expect(server.stats.resource).toBe(resource);
		expect(server.stats.token.refresh_token).toBe(0);
		expect(server.stats.revoke).toBe(0);
		expect(sessions.map.get(alice.did)).toBe(stored);
		// the client that stored it goes on
		const session = await ours.client.restore(alice.did, { refresh: true });
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
	});

	it("is replaced by this client's sign-in of the account, without a revocation it could not make", async () => {
		const sessions = new MapStore<StoredSession>();
		const ours = await createTestClient(server, { sessions });
		await signIn(server, ours.client, alice.did);
		const other = await createTestClient(server, { sessions, ...otherApp() });
		const revocations = server.stats.revoke;

		const { session } = await signIn(server, other.client, alice.did);
		expect(sessions.map.get(alice.did)!.clientId).toBe(OTHER_CLIENT_ID);
		expect(server.stats.revoke).toBe(revocations);
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		// and now the first client finds none of its own
		await expect(ours.client.restore(alice.did)).rejects.toMatchObject({ storedBy: OTHER_CLIENT_ID });
	});

	it('takes a session stored without a client_id (earlier releases, converted ones) as its own', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const { clientId: _, ...older } = sessions.map.get(alice.did)!;
		sessions.map.set(alice.did, older);

		const session = await client.restore(alice.did, { refresh: true });
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		// its refresh keeps it as it was: no client_id is added behind the app's back
		expect(sessions.map.get(alice.did)!.clientId).toBeUndefined();
	});

	it('counts every loopback client as one: a development app restarted on another port keeps its sessions', async () => {
		const sessions = new MapStore<StoredSession>();
		const loopback = (port: number) =>
			new OAuthClient({
				metadata: {
					redirect_uris: [`http://127.0.0.1:${port}/callback`],
					scope: 'atproto transition:generic',
				},
				stores: { sessions, states: new MapStore<StoredState>() },
				actorResolver: actorResolverFor(server),
				allowHttp: true,
			});
		const before = loopback(8080);
		const { url } = await before.authorize({ target: { type: 'account', identifier: alice.did } });
		await before.callback(await server.authorize(url, { did: alice.did }));
		expect(sessions.map.get(alice.did)!.clientId).toBe(before.metadata.client_id);

		const after = loopback(8081);
		expect(after.metadata.client_id).not.toBe(before.metadata.client_id);
		const session = await after.restore(alice.did);
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
	});
});
