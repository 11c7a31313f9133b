// a sign-out whose lock hold is lost while it revokes is done again under the lock taken anew:
// the tokens the first run already revoked must not be sent to the revocation endpoint again
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import type { StoredSession } from './stored-types.ts';
import { leasingLock } from './test-utils/leasing-lock.ts';
import { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

describe('a sign-out whose hold is lost while it revokes', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => ({ server, alice } = env));

	it('revokes each token once, and still deletes the session', async () => {
		const sessions = new MapStore<StoredSession>();
		const { lock, leases } = leasingLock();
		let lose = true;
		// the lease runs out while the first revocation is answered
		const losing: typeof fetch = async (input, init) => {
			const response = await globalThis.fetch(input, init);
			const url = String(input instanceof Request ? input.url : input);
			if (lose && url.endsWith('/oauth/revoke')) {
				lose = false;
				leases.at(-1)!.abort(new Error('lease ran out'));
			}
			return response;
		};
		const { client } = await createTestClient(server, { sessions, requestLock: lock, fetch: losing });
		const { session } = await signIn(server, client, alice.did);
		server.reset();

		await session.signOut();

		expect(sessions.map.has(alice.did)).toBe(false);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: false });
		// the refresh token and the access token, each once
		expect(server.stats.requests.filter((r) => r.path === '/oauth/revoke')).toHaveLength(2);
	});
});
