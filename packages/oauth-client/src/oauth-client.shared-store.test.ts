import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { UnreadableSessionError } from './errors.ts';
import type { OAuthClientOptions } from './oauth-client-options.ts';
import type { StoredSession } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	CLIENT_ID,
	createTestClient,
	signIn,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';

/** the test client's metadata under another `client_id`: a second app. */
const otherApp = (): Partial<OAuthClientOptions> => ({
	metadata: {
		client_id: 'https://other.example.com/oauth-client-metadata.json',
		redirect_uris: ['https://other.example.com/oauth/callback'],
		scope: ['atproto', 'transition:generic'],
	},
});

// each client_id needs its own session store: sessions are keyed by DID alone. two apps on one
// store by mistake must not use, end or replace each other's sessions
describe('a session store shared by two client_ids (a misconfiguration)', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	it("stores the client_id with the session, and refuses another app's session without using or ending it", async () => {
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
			expect(error).toBeInstanceOf(UnreadableSessionError);
			expect((error as UnreadableSessionError).problem).toBe(
				`it was stored by another client (client_id "${CLIENT_ID}"): give each client_id its own session store`,
			);
		}
		// a sign-out there leaves it alone
		await other.client.revoke(alice.did);
		expect(server.stats.resource).toBe(resource);
		expect(server.stats.token.refresh_token).toBe(0);
		expect(server.stats.revoke).toBe(0);
		expect(sessions.map.get(alice.did)).toBe(stored);
		// the app that stored it goes on
		const session = await ours.client.restore(alice.did, { refresh: true });
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
	});

	it("fails the other app's sign-in of the same account rather than replace the session (its tokens revoked)", async () => {
		const sessions = new MapStore<StoredSession>();
		const ours = await createTestClient(server, { sessions });
		// the server keeps earlier tests' grants: this test's come after them
		const earlier = server.sessions(alice.did).length;
		await signIn(server, ours.client, alice.did);
		const stored = sessions.map.get(alice.did)!;
		const other = await createTestClient(server, { sessions, ...otherApp() });

		const error = await signIn(server, other.client, alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(TypeError);
		expect((error as Error).message).toBe(
			`the session store holds a session of ${alice.did} stored by another client (client_id "${CLIENT_ID}"): give each client_id its own session store (a table, a key prefix)`,
		);
		expect(sessions.map.get(alice.did)).toBe(stored);
		// the other app's grant ended at once; ours lives
		const grants = server.sessions(alice.did).slice(earlier);
		expect(grants.map(({ active }) => active)).toEqual([true, false]);
		expect(
			(await (await ours.client.restore(alice.did)).handle('/xrpc/com.atproto.server.getSession')).status,
		).toBe(200);
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
});
