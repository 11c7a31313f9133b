import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import {
	type OAuthClient,
	type OAuthSessionEvent,
	SessionNotFoundError,
	TokenRefreshError,
} from '@atcute/oauth-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type LocalAccount, type LocalNetwork, startLocalNetwork } from '../src/index.ts';
import {
	type ClientDocuments,
	type SeenResponse,
	START_TIMEOUT_MS,
	signIn,
	startObservedApp,
	TEST_TIMEOUT_MS,
	type TestStores,
} from './helpers.ts';

let network: LocalNetwork;
let resting: LocalAccount;
let revoked: LocalAccount;
let documents: ClientDocuments;
let oauth: OAuthClient;
let stores: TestStores;
let seen: SeenResponse[];
let events: OAuthSessionEvent[];

beforeAll(async () => {
	network = await startLocalNetwork({ accounts: [{ handle: 'resting.test' }, { handle: 'revoked.test' }] });
	[resting, revoked] = network.accounts as [LocalAccount, LocalAccount];
	({ documents, stores, oauth, seen, events } = await startObservedApp(network));
}, START_TIMEOUT_MS);

afterAll(async () => {
	await documents?.close();
	await network?.close();
});

/** an XRPC call on the account's own password session (what the user does outside our app). */
const asUser = async (account: LocalAccount, nsid: string, body?: unknown): Promise<Response> => {
	const login = await fetch(new URL('/xrpc/com.atproto.server.createSession', network.pdsUrl), {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ identifier: account.did, password: account.password }),
	});
	const { accessJwt } = (await login.json()) as { accessJwt: string };
	return fetch(new URL(`/xrpc/${nsid}`, network.pdsUrl), {
		method: 'POST',
		headers: {
			authorization: `Bearer ${accessJwt}`,
			...(body === undefined ? {} : { 'content-type': 'application/json' }),
		},
		// a procedure that takes no input refuses one
		...(body === undefined ? {} : { body: JSON.stringify(body) }),
	});
};

/** the requests our client sent from `from` on, as `status METHOD path`. */
const sentSince = (from: number): string[] =>
	seen
		.slice(from)
		.map((response) => `${response.status} ${response.method} ${new URL(response.url).pathname}`);

// what the reference PDS does to an account's OAuth grant over its life, and what our client then
// does with the session: keep it while it can come back, end it (once, without sending its dead
// tokens again) when the grant is gone
describe('an account over its life, against the reference PDS', { timeout: TEST_TIMEOUT_MS }, () => {
	it('keeps the session of a deactivated account, hands back its refusals, and goes on once it is active again', async () => {
		const { session } = await signIn(oauth, network, resting);
		await expect.poll(() => events.at(-1)).toMatchObject({ type: 'updated', sub: resting.did });
		const rpc = new Client({ handler: session });
		expect((await asUser(resting, 'com.atproto.server.deactivateAccount', {})).status).toBe(200);
		const fromEvents = events.length;

		// the grant lives on: reads answer, a write is refused as the account's state, not the token's
		const read = await rpc.get('com.atproto.server.getSession', {});
		expect(read.ok && read.data).toMatchObject({ did: resting.did, active: false });
		const from = seen.length;
		const write = await rpc.post('com.atproto.repo.createRecord', {
			input: {
				repo: resting.did,
				collection: 'app.bsky.feed.post',
				record: { $type: 'app.bsky.feed.post', text: 'hi', createdAt: new Date().toISOString() },
			},
		});
		expect(write.ok).toBe(false);
		expect(write.data).toMatchObject({ error: 'AccountDeactivated' });
		// handed back as it came: no refresh, no retry
		expect(sentSince(from)).toEqual(['401 POST /xrpc/com.atproto.repo.createRecord']);
		await session.refresh();
		expect(await stores.sessions.get(resting.did)).toBeDefined();

		expect((await asUser(resting, 'com.atproto.server.activateAccount')).status).toBe(200);
		const again = await rpc.get('com.atproto.server.getSession', {});
		expect(again.ok && again.data).toMatchObject({ did: resting.did, active: true });
		// the refresh was stored (updated); nothing ended
		await expect.poll(() => events.slice(fromEvents).map((event) => event.type)).toEqual(['updated']);
	});

	it('ends a session whose grant the server revoked, once, and its object sends its dead tokens no more', async () => {
		const { session } = await signIn(oauth, network, revoked);
		// the grant ends at the server while the app still holds the session (revoked elsewhere):
		// signed out through another copy, then the copy this app held put back
		const held = await stores.sessions.get(revoked.did);
		await (await oauth.restore(revoked.did)).signOut();
		await stores.sessions.set(revoked.did, held!);
		// that sign-out's own event delivered first (events are delivered after the call resolves)
		await expect.poll(() => events.at(-1)).toMatchObject({ type: 'deleted', cause: 'signed_out' });
		const fromEvents = events.length;

		let from = seen.length;
		const first = await new Client({ handler: session })
			.get('com.atproto.server.getSession', {})
			.catch((err: unknown) => err);
		expect(first).toBeInstanceOf(TokenRefreshError);
		expect(first).toMatchObject({ reason: 'invalid_grant' });
		// the PDS refused the token, the authorization server its refresh token (after the identity check)
		const sent = sentSince(from);
		expect(sent[0]).toBe('401 GET /xrpc/com.atproto.server.getSession');
		expect(sent.at(-1)).toBe('400 POST /oauth/token');
		expect(await stores.sessions.get(revoked.did)).toBeUndefined();
		await expect
			.poll(() => events.slice(fromEvents))
			.toEqual([{ type: 'deleted', sub: revoked.did, cause: 'invalid_grant' }]);

		// the object reads the store before its next call: nothing is sent
		from = seen.length;
		await expect(session.handle('/xrpc/com.atproto.server.getSession')).rejects.toBeInstanceOf(
			SessionNotFoundError,
		);
		expect(sentSince(from)).toEqual([]);
		await expect(oauth.restore(revoked.did)).rejects.toBeInstanceOf(SessionNotFoundError);

		// the account signs in again: the old object goes on with the new session
		await signIn(oauth, network, revoked);
		from = seen.length;
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		expect(sentSince(from)).toEqual(['200 GET /xrpc/com.atproto.server.getSession']);
	});
});
