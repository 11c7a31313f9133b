import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { OAuthTransientError, TokenRefreshError } from './errors.ts';
import type { OAuthSessionEvent } from './session-events.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

// losses no client can avoid, once the server has acted: the answer to a refresh lost after the
// server rotated the refresh token, and a sign-out whose delete fails after the server revoked the
// grant. what matters is that the next use says so: a typed error, the session deleted, a
// `deleted` event; never a session that goes on as if it worked.
describe('a failure after the server spent the tokens', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	it('a refresh whose answer was lost after the rotation fails as passing, keeps the session, and the next refresh ends it as invalid_grant', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did)!.tokenSet;
		const events: OAuthSessionEvent[] = [];
		client.addEventListener((event) => events.push(event));

		server.behaviour.refreshFailure = 'network_after_rotation';
		await expect(client.restore(alice.did, { refresh: true })).rejects.toBeInstanceOf(OAuthTransientError);
		// the server rotated the token: what is stored is spent, though nothing said so yet
		expect(sessions.map.get(alice.did)!.tokenSet.refresh_token).toBe(before.refresh_token);
		expect(server.sessions(alice.did).at(-1)!.refreshes).toBe(1);

		server.behaviour.refreshFailure = undefined;
		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(TokenRefreshError);
		expect(error).toMatchObject({ reason: 'invalid_grant', did: alice.did });
		expect(sessions.map.has(alice.did)).toBe(false);
		await expect
			.poll(() => events)
			.toEqual([expect.objectContaining({ type: 'deleted', sub: alice.did, cause: 'invalid_grant' })]);
		// the spent token, sent again, ended the grant at the server: nothing is left live
		expect(server.sessions(alice.did).every((session) => !session.active)).toBe(true);
	});

	it("a sign-out whose delete fails rejects with the store's error, and the session left behind ends at its first use", async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const events: OAuthSessionEvent[] = [];
		client.addEventListener((event) => events.push(event));
		const failure = Object.assign(new Error('the disk is read-only'), { transient: false });
		const remove = sessions.delete.bind(sessions);
		let failures = 1;
		sessions.delete = async (key: string) => {
			if (failures-- > 0) throw failure;
			return remove(key);
		};

		// never a sign-out reported done while the session is still stored
		await expect(client.revoke(alice.did)).rejects.toBe(failure);
		expect(sessions.map.has(alice.did)).toBe(true);
		expect(server.sessions(alice.did).every((session) => !session.active)).toBe(true);
		expect(events).toEqual([]);

		const session = await client.restore(alice.did);
		await expect(session.handle('/xrpc/com.atproto.server.getSession')).rejects.toMatchObject({
			name: 'TokenRefreshError',
			reason: 'invalid_grant',
		});
		expect(sessions.map.has(alice.did)).toBe(false);
		await expect
			.poll(() => events)
			.toEqual([expect.objectContaining({ type: 'deleted', sub: alice.did, cause: 'invalid_grant' })]);
	});
});
