import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import type { StoredSession } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import { deferred, pathOf, settled } from './test-utils/promises.ts';
import { type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/**
 * `callback(params, { signal })` reads the account's stored session under its lock before it
 * writes the new one. a caller who gives up while that read runs gave up before the session was
 * stored: the call rejects with its reason without waiting out the read, nothing is stored, and
 * the issued tokens are revoked.
 */
describe('OAuthClient.callback aborted under the lock, before the session is written', () => {
	let server: TestOAuthServer;
	let alice: { did: Did };
	let createTestClient: Parameters<Parameters<typeof useTestServer>[0]>[0]['createTestClient'];
	useTestServer((env) => {
		({ server, alice, createTestClient } = env);
	});

	/** a session store whose next read of `did` waits for `release`, telling `reading` when it starts. */
	class GatedReads extends MapStore<StoredSession> {
		gate: { reading: () => void; release: Promise<void> } | undefined;

		override async get(key: string): Promise<StoredSession | undefined> {
			const gate = this.gate;
			this.gate = undefined;
			if (gate !== undefined) {
				gate.reading();
				await gate.release;
			}
			return super.get(key);
		}
	}

	it("rejects with the signal's reason without waiting out the read, stores nothing and revokes the tokens", async () => {
		const sessions = new GatedReads();
		const revoking = deferred();
		const fetch: typeof globalThis.fetch = (input, init) => {
			if (pathOf(input) === '/oauth/revoke') revoking.resolve();
			return globalThis.fetch(input, init);
		};
		const { client } = await createTestClient(server, { sessions, fetch });
		const { url } = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		const params = await server.authorize(url, { did: alice.did });

		const reading = deferred();
		const release = deferred();
		sessions.gate = { reading: reading.resolve, release: release.promise };
		const controller = new AbortController();
		const calling = settled(client.callback(params, { signal: controller.signal }));

		// the code was exchanged and the account checked: the read of its stored session runs
		await reading.promise;
		const reason = new Error('the visitor went away');
		controller.abort(reason);
		// the caller is let go while the store still reads: the tokens are revoked meanwhile (a
		// callback that waited out the read would revoke nothing before it is released)
		// no clock, no count of turns: a call that waited out the read neither revokes nor settles
		// before the release, and the test then fails on its time limit
		const first = await Promise.race([
			revoking.promise.then(() => 'revoked while the read ran'),
			calling.then(() => 'settled before any revocation'),
		]);
		release.resolve();
		expect(first).toBe('revoked while the read ran');
		expect(await calling).toBe(reason);

		await client.close();
		expect(sessions.map.has(alice.did)).toBe(false);
		expect(server.sessions(alice.did).filter((session) => session.active)).toEqual([]);
	});

	it('stands once the write has begun: the call resolves with the stored session', async () => {
		const sessions = new MapStore<StoredSession>();
		const writing = deferred();
		const release = deferred();
		const set = sessions.set.bind(sessions);
		sessions.set = async (key, value) => {
			writing.resolve();
			await release.promise;
			return set(key, value);
		};
		const { client } = await createTestClient(server, { sessions });
		const { url } = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		const params = await server.authorize(url, { did: alice.did });

		const controller = new AbortController();
		const calling = client.callback(params, { signal: controller.signal });
		await writing.promise;
		controller.abort(new Error('the visitor went away'));
		release.resolve();

		const { session } = await calling;
		expect(session.did).toBe(alice.did);
		expect(sessions.map.has(alice.did)).toBe(true);
	});
});
