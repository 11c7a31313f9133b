import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { SessionNotFoundError } from './errors.ts';
import type { StoredSession } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/**
 * a session store whose keys compare without regard to letter case, as a SQL table does under a
 * case-insensitive collation (MySQL's default `utf8mb4_0900_ai_ci`, SQL Server's default): what an
 * app's own store adapter gets when it keeps sessions in such a table.
 */
class CaseInsensitiveStore extends MapStore<StoredSession> {
	override get(key: string) {
		return super.get(key.toLowerCase());
	}
	override set(key: string, value: StoredSession) {
		return super.set(key.toLowerCase(), value);
	}
	override delete(key: string) {
		return super.delete(key.toLowerCase());
	}
}

// the stored session names its own account (tokenSet.sub): a key spelt otherwise that a store
// matches all the same must not hand it out as another DID's, with a lock name of its own
describe('OAuthClient.restore and the spelling of the DID', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => ({ server, alice } = env));

	it('refuses a session stored for another DID than the one asked for', async () => {
		const sessions = new CaseInsensitiveStore();
		const { client } = await createTestClient(server, { sessions });
		await signIn(server, client, alice.did);
		const other = `did:plc:${alice.did.slice('did:plc:'.length).toUpperCase()}` as Did;
		expect(other).not.toBe(alice.did);

		// the account's own DID finds its session
		expect((await client.restore(alice.did)).did).toBe(alice.did);
		// another spelling is another DID: the store's match is alice's session, which is not its own
		await expect(client.restore(other)).rejects.toBeInstanceOf(SessionNotFoundError);
	});

	it('does not sign out the session stored for another DID than the one asked for', async () => {
		const sessions = new CaseInsensitiveStore();
		const { client } = await createTestClient(server, { sessions });
		await signIn(server, client, alice.did);
		const other = `did:plc:${alice.did.slice('did:plc:'.length).toUpperCase()}` as Did;

		await client.revoke(other);
		// alice is still signed in, her grant live at the server
		const session = await client.restore(alice.did);
		const response = await session.handle('/xrpc/com.atproto.server.getSession');
		expect(response.status).toBe(200);
	});

	// holds on the current code too: the identity checked before each refresh refuses the other
	// spelling (its DID document is not its own), so the refresh token goes out once. a guard
	it('does not refresh one grant twice at once through two spellings of the DID', async () => {
		const sessions = new CaseInsensitiveStore();
		const { client } = await createTestClient(server, { sessions });
		await signIn(server, client, alice.did);
		const other = `did:plc:${alice.did.slice('did:plc:'.length).toUpperCase()}` as Did;

		// two requests of one visitor, one with the DID as the app stored it, one as a link spelt it
		await Promise.allSettled([
			client.restore(alice.did, { refresh: true }),
			client.restore(other, { refresh: true }),
		]);

		// one refresh token, sent once: a second use is a replay, and the server ends the grant
		expect(server.stats.token.refresh_token).toBe(1);
		// and alice stays signed in
		const session = await client.restore(alice.did);
		expect(session.getTokenInfo().sub).toBe(alice.did);
	});
});
