import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import {
	IdentityMismatchError,
	IdentityResolutionError,
	OAuthCallbackError,
	type OAuthClient,
	type OAuthSession,
	type OAuthSessionEvent,
	SessionNotFoundError,
	TokenRefreshError,
} from '@atcute/oauth-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
	authorizeWithPassword,
	type LocalAccount,
	type LocalNetwork,
	startLocalNetwork,
} from '../src/index.ts';
import { openAccountPage } from './account-page.ts';
import {
	type ClientDocuments,
	type SeenResponse,
	START_TIMEOUT_MS,
	signIn,
	startObservedApp,
	TEST_TIMEOUT_MS,
	type TestStores,
} from './helpers.ts';

/** the admin password runtime/server.mjs gives the PDS (HTTP basic auth, user `admin`). */
const ADMIN = `Basic ${Buffer.from('admin:local-network-admin-password').toString('base64')}`;

let network: LocalNetwork;
let takenDown: LocalAccount;
let deleted: LocalAccount;
let renamed: LocalAccount;
let bob: LocalAccount;
let twoDevices: LocalAccount;
let resting: LocalAccount;
let returning: LocalAccount;
let documents: ClientDocuments;
let oauth: OAuthClient;
let stores: TestStores;
let seen: SeenResponse[];
let events: OAuthSessionEvent[];

beforeAll(async () => {
	network = await startLocalNetwork({
		accounts: [
			{ handle: 'takendown.test' },
			{ handle: 'deleted.test' },
			{ handle: 'renamed.test' },
			{ handle: 'bob.test' },
			{ handle: 'devices.test' },
			{ handle: 'resting.test' },
			{ handle: 'returning.test' },
		],
	});
	[takenDown, deleted, renamed, bob, twoDevices, resting, returning] = network.accounts as LocalAccount[] as [
		LocalAccount,
		LocalAccount,
		LocalAccount,
		LocalAccount,
		LocalAccount,
		LocalAccount,
		LocalAccount,
	];
	({ documents, stores, oauth, seen, events } = await startObservedApp(network));
}, START_TIMEOUT_MS);

afterAll(async () => {
	await documents?.close();
	await network?.close();
});

/** a POST to the PDS with `authorization` (the admin's, or a password session's). */
const post = async (nsid: string, authorization: string, body?: unknown): Promise<Response> =>
	fetch(new URL(`/xrpc/${nsid}`, network.pdsUrl), {
		method: 'POST',
		headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
		...(body === undefined ? {} : { body: JSON.stringify(body) }),
	});

/** an XRPC call on the account's own password session (what the user does outside our app). */
const asUser = async (account: LocalAccount, nsid: string, body?: unknown): Promise<Response> => {
	const login = await fetch(new URL('/xrpc/com.atproto.server.createSession', network.pdsUrl), {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ identifier: account.did, password: account.password }),
	});
	const { accessJwt } = (await login.json()) as { accessJwt: string };
	return post(nsid, `Bearer ${accessJwt}`, body);
};

/** the requests our client sent from `from` on, as `status METHOD path`. */
const sentSince = (from: number): string[] =>
	seen
		.slice(from)
		.map((response) => `${response.status} ${response.method} ${new URL(response.url).pathname}`);

const getSession = (session: OAuthSession) =>
	new Client({ handler: session }).get('com.atproto.server.getSession', {});

/** the events since `from`, once every listener call has run (they are delivered after the call). */
const eventsSince = async (from: number, expected: readonly unknown[]) =>
	expect.poll(() => events.slice(from)).toEqual(expected);

/**
 * the grant is gone at the server: the next call refreshes once, hears `invalid_grant`, and the
 * session is deleted, with one `deleted` event; nothing more is sent for it after that.
 */
const expectGrantGone = async (account: LocalAccount, session: OAuthSession, fromEvents: number) => {
	const from = seen.length;
	const failed = await getSession(session).catch((err: unknown) => err);
	expect(failed).toBeInstanceOf(TokenRefreshError);
	expect(failed).toMatchObject({ did: account.did, reason: 'invalid_grant' });
	const sent = sentSince(from);
	expect(sent[0]).toBe('401 GET /xrpc/com.atproto.server.getSession');
	expect(sent.filter((line) => line.endsWith(' /oauth/token'))).toEqual(['400 POST /oauth/token']);
	expect(await stores.sessions.get(account.did)).toBeUndefined();
	await eventsSince(fromEvents, [{ type: 'deleted', sub: account.did, cause: 'invalid_grant' }]);

	// no loop: the object, a refresh and a restore all find it gone without a request
	const after = seen.length;
	await expect(getSession(session)).rejects.toBeInstanceOf(SessionNotFoundError);
	await expect(session.refresh()).rejects.toBeInstanceOf(SessionNotFoundError);
	await expect(oauth.restore(account.did)).rejects.toBeInstanceOf(SessionNotFoundError);
	expect(sentSince(after)).toEqual([]);
	await eventsSince(fromEvents, [{ type: 'deleted', sub: account.did, cause: 'invalid_grant' }]);
};

// what the reference PDS does to a session's grant when the account changes, and what the app then
// gets (see account-lifecycle.e2e.test.ts for deactivation and a revocation through the client)
describe("the account's state changes while the app holds its session", { timeout: TEST_TIMEOUT_MS }, () => {
	it('a deactivated account keeps its session; the app cannot reactivate it, a new sign-in is refused with the reason, the held one goes on', async () => {
		const { session } = await signIn(oauth, network, resting);
		await expect.poll(() => events.at(-1)).toMatchObject({ type: 'updated', sub: resting.did });
		const fromEvents = events.length;
		expect((await asUser(resting, 'com.atproto.server.deactivateAccount', {})).status).toBe(200);
		const held = await stores.sessions.get(resting.did);

		// the grant lives on: a refresh goes through
		let from = seen.length;
		await oauth.restore(resting.did, { refresh: true });
		expect(sentSince(from).filter((line) => line.endsWith(' /oauth/token'))).toEqual([
			'200 POST /oauth/token',
		]);

		// a new sign-in: the PDS no longer resolves the handle, and refuses the DID's with its reason
		const byHandle = await oauth
			.authorize({ target: { type: 'account', identifier: resting.handle } })
			.catch((err: unknown) => err);
		expect(byHandle).toMatchObject({ reason: 'not_found', transient: false });
		const byDid = await signIn(oauth, network, resting, 'did').catch((err: unknown) => err);
		expect(byDid).toBeInstanceOf(OAuthCallbackError);
		expect(byDid).toMatchObject({
			error: 'access_denied',
			errorDescription: 'This account has been deactivated',
		});
		expect((await stores.sessions.get(resting.did))?.dpopKey).toEqual(held?.dpopKey);

		// reactivation is the user's, on the PDS: its refusal reaches the app as it was said, nothing refreshed
		from = seen.length;
		const activate = await new Client({ handler: session }).post('com.atproto.server.activateAccount', {
			as: null,
		});
		expect(activate.ok).toBe(false);
		expect(activate.data).toMatchObject({
			error: 'Forbidden',
			message: expect.stringMatching(/not available with OAuth/),
		});
		expect(sentSince(from).filter((line) => line.includes('/oauth/'))).toEqual([]);

		expect((await asUser(resting, 'com.atproto.server.activateAccount')).status).toBe(200);
		const again = await getSession(session);
		expect(again.ok && again.data).toMatchObject({ did: resting.did, active: true });
		await eventsSince(fromEvents, [expect.objectContaining({ type: 'updated', sub: resting.did })]);
	});

	it('a takedown ends the grant: the session is deleted once, as invalid_grant; lifted, the account signs in again', async () => {
		const { session } = await signIn(oauth, network, takenDown);
		await expect.poll(() => events.at(-1)).toMatchObject({ type: 'updated', sub: takenDown.did });
		const subject = { $type: 'com.atproto.admin.defs#repoRef', did: takenDown.did };
		const fromEvents = events.length;
		expect(
			(await post('com.atproto.admin.updateSubjectStatus', ADMIN, { subject, takedown: { applied: true } }))
				.status,
		).toBe(200);
		await expectGrantGone(takenDown, session, fromEvents);

		expect(
			(await post('com.atproto.admin.updateSubjectStatus', ADMIN, { subject, takedown: { applied: false } }))
				.status,
		).toBe(200);
		// the object held through it goes on with the account's next sign-in
		await signIn(oauth, network, takenDown);
		const again = await getSession(session);
		expect(again.ok && again.data.did).toBe(takenDown.did);
	});

	it('a deleted account: the session is deleted once, as invalid_grant, and its handle names no one', async () => {
		const { session } = await signIn(oauth, network, deleted);
		await expect.poll(() => events.at(-1)).toMatchObject({ type: 'updated', sub: deleted.did });
		const fromEvents = events.length;
		// the admin route runs the account manager's deleteAccount, as the user's own
		// com.atproto.server.deleteAccount (with the token the PDS mails) does
		expect((await post('com.atproto.admin.deleteAccount', ADMIN, { did: deleted.did })).status).toBe(200);
		// three calls at once meet it: one token request between them, one event, each a typed error
		const from0 = seen.length;
		const all = await Promise.all([1, 2, 3].map(() => getSession(session).catch((err: unknown) => err)));
		// the one whose refresh heard the refusal, and any that shared it: `TokenRefreshError`; a call
		// whose 401 came back after the session was deleted finds it gone
		expect(all.some((failed) => failed instanceof TokenRefreshError)).toBe(true);
		for (const failed of all) {
			expect(failed instanceof TokenRefreshError || failed instanceof SessionNotFoundError).toBe(true);
		}
		expect(await stores.sessions.get(deleted.did)).toBeUndefined();
		expect(sentSince(from0).filter((line) => line.endsWith(' /oauth/token'))).toEqual([
			'400 POST /oauth/token',
		]);
		await eventsSince(fromEvents, [{ type: 'deleted', sub: deleted.did, cause: 'invalid_grant' }]);

		const from = seen.length;
		const refused = await oauth
			.authorize({ target: { type: 'account', identifier: deleted.handle } })
			.catch((err: unknown) => err);
		expect(refused).toBeInstanceOf(IdentityResolutionError);
		// for good: not one to try again later
		expect(refused).toMatchObject({ reason: 'not_found', transient: false });
		expect(sentSince(from).filter((line) => line.includes('/oauth/'))).toEqual([]);
	});

	it('a password change leaves the OAuth grant: calls and refreshes go on, nothing ends', async () => {
		const { session } = await signIn(oauth, network, bob);
		await expect.poll(() => events.at(-1)).toMatchObject({ type: 'updated', sub: bob.did });
		const fromEvents = events.length;
		const password = `${bob.password}-changed`;
		expect(
			(await post('com.atproto.admin.updateAccountPassword', ADMIN, { did: bob.did, password })).status,
		).toBe(200);
		bob = { ...bob, password };

		expect((await getSession(session)).ok).toBe(true);
		await session.refresh();
		expect((await getSession(session)).ok).toBe(true);
		await eventsSince(fromEvents, [expect.objectContaining({ type: 'updated', sub: bob.did })]);
	});

	it('a handle change: the session goes on; the old handle, moved to another account, signs in that account, never this one', async () => {
		const { session } = await signIn(oauth, network, renamed);
		await expect.poll(() => events.at(-1)).toMatchObject({ type: 'updated', sub: renamed.did });
		const fromEvents = events.length;
		const oldHandle = renamed.handle;
		expect(
			(await asUser(renamed, 'com.atproto.identity.updateHandle', { handle: 'renamed-now.test' })).status,
		).toBe(200);

		// the session is the DID's: the PDS answers with the new handle, a refresh keeps it
		const read = await getSession(session);
		expect(read.ok && read.data).toMatchObject({ did: renamed.did, handle: 'renamed-now.test' });
		await session.refresh();

		// the old handle names no one now
		const unknown = await oauth
			.authorize({ target: { type: 'account', identifier: oldHandle } })
			.catch((err: unknown) => err);
		expect(unknown).toMatchObject({ reason: 'not_found', transient: false });

		// another account takes it: a sign-in with it is that account's
		expect((await asUser(bob, 'com.atproto.identity.updateHandle', { handle: oldHandle })).status).toBe(200);
		const bobs = await signIn(oauth, network, { ...bob, handle: oldHandle });
		expect(bobs.session.did).toBe(bob.did);

		// the old owner, started from the old handle, signs in as itself on the PDS's page: refused,
		// saying which account authorised; its tokens revoked, its own stored session untouched
		const held = await stores.sessions.get(renamed.did);
		const { url } = await oauth.authorize({ target: { type: 'account', identifier: oldHandle } });
		const callbackUrl = await authorizeWithPassword(url, {
			username: 'renamed-now.test',
			password: renamed.password,
		});
		const from = seen.length;
		const mismatch = await oauth.callback(callbackUrl.searchParams).catch((err: unknown) => err);
		expect(mismatch).toBeInstanceOf(IdentityMismatchError);
		expect(mismatch).toMatchObject({ field: 'sub', expected: bob.did, actual: renamed.did });
		expect(sentSince(from)).toContain('200 POST /oauth/revoke');
		expect(await stores.sessions.get(renamed.did)).toEqual(held);
		expect((await getSession(session)).ok).toBe(true);
		await eventsSince(fromEvents, [
			expect.objectContaining({ type: 'updated', sub: renamed.did }),
			expect.objectContaining({ type: 'updated', sub: bob.did }),
		]);
	});

	it('two devices sign in to one account: one session, one grant at the server; revoked on the account page, both end', async () => {
		// the store keeps one session per DID: the second device's sign-in replaces the first's, and
		// revokes its grant, so the user's account page lists one
		const first = await signIn(oauth, network, twoDevices);
		const second = await signIn(oauth, network, twoDevices);
		const page = await openAccountPage(network, twoDevices);
		const ours = (await page.sessions()).filter((grant) => grant.clientId === documents.clientId);
		expect(ours).toHaveLength(1);
		await expect
			.poll(() => events.slice(-2))
			.toEqual([
				expect.objectContaining({ type: 'updated', sub: twoDevices.did }),
				expect.objectContaining({ type: 'updated', sub: twoDevices.did }),
			]);
		const fromEvents = events.length;

		// the user revokes the app on the account page
		await page.revoke(ours[0]!.tokenId);
		expect(await page.sessions()).toEqual([]);
		await expectGrantGone(twoDevices, second.session, fromEvents);
		// the first device's object did not end the session itself: its (revoked) token is refused
		// once, and its refresh finds the store empty, with no token request and no second event
		const from = seen.length;
		await expect(getSession(first.session)).rejects.toBeInstanceOf(SessionNotFoundError);
		expect(sentSince(from)).toEqual(['401 GET /xrpc/com.atproto.server.getSession']);
		await eventsSince(fromEvents, [{ type: 'deleted', sub: twoDevices.did, cause: 'invalid_grant' }]);
	});

	it('revoked on the account page while the app is idle, then signed in again: the new session replaces the dead one, held objects go on with it', async () => {
		const { session } = await signIn(oauth, network, returning);
		const page = await openAccountPage(network, returning);
		const [grant] = (await page.sessions()).filter((listed) => listed.clientId === documents.clientId);
		await page.revoke(grant!.tokenId);
		await expect.poll(() => events.at(-1)).toMatchObject({ type: 'updated', sub: returning.did });
		const fromEvents = events.length;

		// the app has not called since: the dead session is still stored when the user signs in again
		await signIn(oauth, network, returning);
		const from = seen.length;
		const read = await getSession(session);
		expect(read.ok && read.data.did).toBe(returning.did);
		// refused once, then the new tokens taken up from the store: no refresh token spent
		expect(sentSince(from).filter((line) => line.endsWith(' /oauth/token'))).toEqual([]);
		// replaced, not ended: one `updated`, no `deleted`
		await eventsSince(fromEvents, [expect.objectContaining({ type: 'updated', sub: returning.did })]);
		expect((await page.sessions()).filter((listed) => listed.clientId === documents.clientId)).toHaveLength(
			1,
		);
	});
});
