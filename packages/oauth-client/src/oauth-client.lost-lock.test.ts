// a refresh that ends a session ends the one it read: a lock can be lost while the refresh runs
// (PostgreSQL's advisory lock goes with a restart of its server), and a session another process
// stored meanwhile is not the failed refresh's to delete
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import type { OAuthSessionEvent } from './session-events.ts';
import type { StoredSession } from './stored-types.ts';
import {
	CLIENT_ID,
	createTestClient,
	signIn,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';
import type { OAuthTracer, RefreshTraceContext } from './tracer.ts';

/** whether a request is a refresh at the token endpoint. */
const isRefresh = (input: RequestInfo | URL, init?: RequestInit): boolean =>
	String(input instanceof Request ? input.url : input).endsWith('/oauth/token') &&
	String(init?.body).includes('grant_type=refresh_token');

describe('a refresh that fails for good, after the lock was lost', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	it('adopts a session another process stored while its refresh was refused, and deletes nothing', async () => {
		let onRefresh: (() => void) | undefined;
		const refreshes: RefreshTraceContext[] = [];
		const tracer: OAuthTracer = {
			trace(operation, context, fn) {
				if (operation === 'refresh') refreshes.push(context as RefreshTraceContext);
				return fn();
			},
		};
		const { client, sessions, key } = await createTestClient(server, {
			tracer,
			fetch: async (input, init) => {
				if (isRefresh(input, init)) onRefresh?.();
				return fetch(input, init);
			},
		});
		await signIn(server, client, alice.did);
		// the other process (the same app, its own store connection), which signed the account in
		// again while this one, its lock lost, was refreshing the session it had read
		const other = await createTestClient(server, { key });
		await signIn(server, other.client, alice.did);
		const theirs: StoredSession = other.sessions.map.get(alice.did)!;
		onRefresh = () => sessions.map.set(alice.did, theirs);
		const events: OAuthSessionEvent[] = [];
		client.addEventListener((event) => events.push(event));
		server.behaviour.refreshFailure = 'invalid_grant';

		const session = await client.restore(alice.did, { refresh: true });
		server.behaviour.refreshFailure = undefined;
		// the other sign-in stays stored, and is the session handed back: it works
		expect(sessions.map.get(alice.did)).toEqual(theirs);
		expect((await session.getTokenInfo()).expiresAt?.getTime()).toBe(theirs.tokenSet.expires_at);
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		// no session of this process's is reported deleted
		await new Promise((resolve) => setTimeout(resolve, 10));
		expect(events).toEqual([]);
		// traced as what it was: a token request made and refused, then the other's session taken up
		// (not `adopted`, which says no token request was made)
		expect(refreshes).toEqual([
			{ sub: alice.did, clientId: CLIENT_ID, issuer: server.issuer, adoptedAfter: 'invalid_grant' },
		]);
	});

	it('still deletes the session it read when nothing else was stored', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		server.behaviour.refreshFailure = 'invalid_grant';

		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		server.behaviour.refreshFailure = undefined;
		expect(error).toMatchObject({ reason: 'invalid_grant' });
		expect(sessions.map.has(alice.did)).toBe(false);
	});
});
