import type { Did } from '@atcute/lexicons';
import { expect } from 'vitest';

import type { SessionStore, StoredState } from '../stored-types.ts';
import { MapStore } from './map-store.ts';
import { createTestClient, signIn, type TestOAuthServer } from './setup.ts';

let accounts = 0;

/**
 * signs an account in, then has three clients with no `requestLock`, each on the session store
 * `sessions()` makes for it, force a refresh of it at once: over one data set they must share the
 * default lock, each refresh spending the token the one before stored (none replayed, which the
 * server answers by ending the grant), and the session must work for each of them after.
 */
export const refreshAtOnce = async (server: TestOAuthServer, sessions: () => SessionStore): Promise<void> => {
	const first = await createTestClient(server, {
		stores: { sessions: sessions(), states: new MapStore<StoredState>() },
	});
	const others = await Promise.all(
		[1, 2].map(() =>
			createTestClient(server, {
				key: first.key,
				stores: { sessions: sessions(), states: new MapStore<StoredState>() },
			}),
		),
	);
	const did = server.createAccount({ handle: `refresh-at-once-${++accounts}.test` }).did as Did;
	await signIn(server, first.client, did);

	const clients = [first, ...others].map(({ client }) => client);
	const results = await Promise.allSettled(clients.map((client) => client.restore(did, { refresh: true })));
	expect(
		results.map((result) => (result.status === 'fulfilled' ? result.value.did : String(result.reason))),
	).toEqual([did, did, did]);
	server.assertNoRejections();
	for (const client of clients) expect((await client.restore(did, { refresh: true })).did).toBe(did);
	server.assertNoRejections();
};
