// a refresh checks its lock right before its refresh token goes out; a token request refused for
// a DPoP nonce (or the server's clock) sends the same refresh token again: that retry must not go
// out under a hold lost meanwhile, when another holder may be sending the same token
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import type { StoredSession } from './stored-types.ts';
import { leasingLock } from './test-utils/leasing-lock.ts';
import { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

describe('a refresh whose lease runs out while its token request is refused for a nonce', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => ({ server, alice } = env));

	for (const cause of ['nonce', 'clock'] as const)
		it(`sends no refresh token under the lost hold (${cause} retry)`, async () => {
			const sessions = new MapStore<StoredSession>();
			const { client, key } = await createTestClient(server, { sessions });
			await signIn(server, client, alice.did);

			const { lock, leases } = leasingLock();
			/** for each token request sent: whether the hold it was sent under was lost by then. */
			const sentUnderLostHold: boolean[] = [];
			let lose = true;
			const losing: typeof fetch = async (input, init) => {
				const url = String(input instanceof Request ? input.url : input);
				const isToken = url.endsWith('/oauth/token');
				if (isToken) sentUnderLostHold.push(leases.at(-1)!.signal.aborted);
				const response = await globalThis.fetch(input, init);
				// the lease runs out while the refused attempt is answered
				if (isToken && lose && (response.status === 400 || response.status === 401)) {
					lose = false;
					leases.at(-1)!.abort(new Error('lease ran out'));
				}
				return response;
			};
			// another process: it never heard from the server (no nonce), on its own lock lease
			const { client: fresh } = await createTestClient(server, {
				sessions,
				key,
				requestLock: lock,
				fetch: losing,
			});
			server.reset();
			if (cause === 'clock') {
				// a nonce already known, and a server whose clock is ahead: the proof is refused for its time
				await fresh.authorize({ target: { type: 'account', identifier: alice.did } });
				server.reset();
				server.behaviour.clockSkewSeconds = 300;
			}

			const outcome = await fresh.restore(alice.did, { refresh: true }).then(
				() => 'ok',
				(e: Error) => e.name,
			);
			// the lock taken again, the refresh made from a fresh read
			expect(outcome).toBe('ok');
			expect(sentUnderLostHold.length).toBeGreaterThan(1);
			expect(sentUnderLostHold).not.toContain(true);
		});

	it('does not replay the refresh token another process spent once the lease ran out', async () => {
		const sessions = new MapStore<StoredSession>();
		const { client, key } = await createTestClient(server, { sessions });
		await signIn(server, client, alice.did);
		// the process the lock goes to next: it refreshes with the same refresh token
		const { client: other } = await createTestClient(server, { sessions, key });
		const { lock, leases } = leasingLock();
		let lose = true;
		const losing: typeof fetch = async (input, init) => {
			const url = String(input instanceof Request ? input.url : input);
			const response = await globalThis.fetch(input, init);
			if (url.endsWith('/oauth/token') && lose && response.status === 400) {
				lose = false;
				leases.at(-1)!.abort(new Error('lease ran out'));
				await other.restore(alice.did, { refresh: true });
			}
			return response;
		};
		const { client: fresh } = await createTestClient(server, {
			sessions,
			key,
			requestLock: lock,
			fetch: losing,
		});
		server.reset();
		const outcome = await fresh.restore(alice.did, { refresh: true }).then(
			() => 'ok',
			(e: Error) => `${e.name} ${e.message.slice(0, 60)}`,
		);
		const grant = server.sessions(alice.did).at(-1);
		// the lock taken again, the other process's refresh is taken up
		expect(outcome).toBe('ok');
		// the grant lives on, and the session is kept
		expect(grant).toMatchObject({ active: true });
		expect(sessions.map.has(alice.did)).toBe(true);
		expect(server.sessions(alice.did).at(-1)?.revokedReason).toBeUndefined();
	});
});
