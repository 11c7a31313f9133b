import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import type { StoredState } from './stored-types.ts';
import { createRecord, streamOf } from './test-utils/create-record.ts';
import { MapStore } from './test-utils/map-store.ts';
import { signIn, type TestOAuthServer, type TestServerEnv, useTestServer } from './test-utils/setup.ts';

// a stream's nonce check read an async nonce cache with no time limit of its own: against a cache
// that stalls (a shared store that lost the request), every stream call stayed in memory for
// ever, its body with it, and one on an app-wide signal kept its listener there (the DPoP layer's
// own read of the cache gives up after a second)
describe('OAuthSession streams over a nonce cache that never answers', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, createTestClient } = env));

	it('go on, after a probe, once the read limit has passed: no call is held for ever', async () => {
		const first = await createTestClient(server);
		await signIn(server, first.client, alice.did);
		// a new process on the same sessions, whose shared nonce store stalls: reads and writes never settle
		const dpopNonces = {
			get: () => new Promise<string | undefined>(() => {}),
			set: () => new Promise<void>(() => {}),
		};
		const stores = { sessions: first.sessions, states: new MapStore<StoredState>(), dpopNonces };
		const { client } = await createTestClient(server, { key: first.key, stores });
		const session = await client.restore(alice.did);

		// the app's shutdown signal, given to every call and never aborted: it bounds nothing here
		const app = new AbortController();
		const calls = [0, 1, 2].map((i) => createRecord(session, streamOf(`{"rkey":"${i}"}`), app.signal));
		const statuses = await Promise.all(calls.map(async (call) => (await call).status));
		expect(statuses).toEqual([200, 200, 200]);
	}, 20_000);
});
