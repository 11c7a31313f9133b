import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import {
	generatePrivateKey,
	OAuthCallbackError,
	type OAuthClient,
	OAuthResponseError,
	type OAuthSession,
	type OAuthSessionEvent,
	SessionNotFoundError,
	TokenRefreshError,
} from '@atcute/oauth-node-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
	authorizeWithPassword,
	type LocalAccount,
	type LocalNetwork,
	startLocalNetwork,
} from '../src/index.ts';
import {
	type ClientDocuments,
	createConfidentialClient,
	createStores,
	openAuthorizationPage,
	START_TIMEOUT_MS,
	serveClientDocuments,
	signIn,
	TEST_TIMEOUT_MS,
	type TestStores,
} from './helpers.ts';

// the reference server's lifetimes (@atproto/oauth-provider 0.22.9, dist/oauth-constants.js),
// for a confidential client (`private_key_jwt`)
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** TOKEN_MAX_AGE: an access token's lifetime. */
const ACCESS_TOKEN_LIFETIME = 60 * MINUTE;
/** REFRESH_LIFETIME_EXTENDED (3 months of 365.25 / 12 days): how long a refresh token lives unused. */
const REFRESH_INACTIVITY_LIMIT = (365.25 / 4) * DAY;
/** SESSION_LIFETIME_EXTENDED (2 years of 365.25 days): how long a grant lives, refreshed or not. */
const SESSION_LIFETIME = 2 * 365.25 * DAY;
/** PAR_EXPIRES_IN: a pushed request's lifetime, until its authorization page opens. */
const PAR_LIFETIME = 5 * MINUTE;
/** AUTHORIZATION_INACTIVITY_TIMEOUT: a code's lifetime, from the consent to the token request. */
const CODE_LIFETIME = 5 * MINUTE;

let network: LocalNetwork;
let alice: LocalAccount;
const documents: ClientDocuments[] = [];

beforeAll(async () => {
	network = await startLocalNetwork({
		accounts: [{ handle: 'alice.test' }],
		traceRequests: true,
		steppableClock: true,
	});
	alice = network.accounts[0]!;
}, START_TIMEOUT_MS);

// the PDS keeps what it stored on the moved clock (tokens, devices); it harms no later test,
// whose clients are new. (a request of a failed test still in flight may stall on the step back:
// see setPdsClockOffset; the next test's requests do not)
afterEach(() => network?.setPdsClockOffset(0));

afterAll(async () => {
	await Promise.all(documents.map((served) => served.close()));
	await network?.close();
});

/** a response a client's fetch saw, with its OAuth error (never a token). */
interface Seen {
	status: number;
	method: string;
	path: string;
	/** the `error` of its `WWW-Authenticate` challenge, or of a JSON error body. */
	error: string | undefined;
}

/** a fetch that records every response, and the OAuth error of a refusal. */
const recordingFetch = (seen: Seen[]): typeof fetch => {
	return async (input, init) => {
		const request = new Request(input, init);
		const response = await fetch(request);
		let error = response.headers.get('www-authenticate')?.match(/error="([^"]*)"/)?.[1];
		if (error === undefined && response.status >= 400) {
			// a clone: the client reads the body itself
			const body = (await response
				.clone()
				.json()
				.catch(() => undefined)) as { error?: unknown } | undefined;
			if (typeof body?.error === 'string') error = body.error;
		}
		seen.push({
			status: response.status,
			method: request.method,
			path: new URL(request.url).pathname,
			error,
		});
		return response;
	};
};

/** the token requests among `seen`, as `status error`. */
const tokenRequests = (seen: readonly Seen[]): string[] =>
	seen
		.filter((response) => response.path === '/oauth/token')
		.map((response) => `${response.status}${response.error === undefined ? '' : ` ${response.error}`}`);

/** a client of its own, its clock `Date.now() + clientOffset()`, with its stores, events and fetches. */
const testClient = async (clientOffset: () => number = () => 0) => {
	const served = await serveClientDocuments(network.tls);
	documents.push(served);
	const stores: TestStores = createStores();
	const seen: Seen[] = [];
	const oauth: OAuthClient = createConfidentialClient({
		network,
		documents: served,
		keyset: [await generatePrivateKey('main', 'ES256')],
		stores,
		fetch: recordingFetch(seen),
		// a function of its own: clients with the same `now` share what they learnt of server clocks
		now: () => Date.now() + clientOffset(),
	});
	const events: OAuthSessionEvent[] = [];
	oauth.addEventListener((event) => events.push(event));
	return { oauth, stores, seen, events };
};

/**
 * a client whose clock moves with the PDS's: `moveTo(ms)` sets both `ms` ahead of this machine's,
 * `wait(ms)` lets that much time pass for both; `now()` is the client's time.
 */
const clientOnPdsTime = async () => {
	let offset = 0;
	const client = await testClient(() => offset);
	const moveTo = async (ms: number) => {
		offset = ms;
		await network.setPdsClockOffset(ms);
	};
	return { ...client, now: () => Date.now() + offset, moveTo, wait: (ms: number) => moveTo(offset + ms) };
};

/**
 * the session was deleted, and `reported()` (the events since a point, read again until they
 * match) tells its end once, by its grant (`invalid_grant`).
 */
const expectEndedForGrant = async (stores: TestStores, reported: () => readonly OAuthSessionEvent[]) => {
	expect(await stores.sessions.get(alice.did)).toBeUndefined();
	await expect.poll(reported).toEqual([{ type: 'deleted', sub: alice.did, cause: 'invalid_grant' }]);
};

const getSession = (session: OAuthSession) =>
	new Client({ handler: session }).get('com.atproto.server.getSession', {});

/** the requests the PDS answered from now on, as `status METHOD path`. */
const watchServer = async () => {
	const from = (await network.syncRequests()).length;
	return async (): Promise<string[]> =>
		(await network.syncRequests())
			.slice(from)
			.map((request) => `${request.status} ${request.method} ${request.path}`);
};

/** the PDS's time as its `Date` header tells it, and as it stamps a token it issues (`iat`), in ms. */
const pdsTimes = async (): Promise<{ date: number; iat: number }> => {
	const response = await fetch(`${network.pdsUrl}/xrpc/com.atproto.server.createSession`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ identifier: alice.did, password: alice.password }),
	});
	const { accessJwt } = (await response.json()) as { accessJwt: string };
	const { iat } = JSON.parse(Buffer.from(accessJwt.split('.')[1]!, 'base64url').toString()) as {
		iat: number;
	};
	return { date: Date.parse(response.headers.get('date')!), iat: iat * 1000 };
};

describe("the PDS's steppable clock", () => {
	it('moves the time the PDS works with and tells (its Date header) by each step, and back', async () => {
		const near = (time: number, expected: number) => expect(Math.abs(time - expected)).toBeLessThan(2500);
		await network.advancePdsClock(DAY);
		await network.advancePdsClock(-MINUTE);
		expect(network.pdsClockOffset).toBe(DAY - MINUTE);
		const moved = await pdsTimes();
		near(moved.date, Date.now() + DAY - MINUTE);
		near(moved.iat, Date.now() + DAY - MINUTE);

		await network.setPdsClockOffset(0);
		const back = await pdsTimes();
		near(back.date, Date.now());
		near(back.iat, Date.now());
		await expect(network.advancePdsClock(1.5)).rejects.toBeInstanceOf(TypeError);
	});
});

describe('expiry at the reference server, its clock moved', { timeout: TEST_TIMEOUT_MS }, () => {
	it('an access token expired at the server while the client holds it: one refresh, the call goes through', async () => {
		const { oauth, stores, seen, events } = await testClient();
		const { session } = await signIn(oauth, network, alice);
		const held = (await stores.sessions.get(alice.did))!.tokenSet;
		expect((await getSession(session)).ok).toBe(true);

		await network.advancePdsClock(ACCESS_TOKEN_LIFETIME + MINUTE);
		// on the client's clock the token has most of its hour left: nothing to refresh before sending
		expect(session.getTokenInfo().expiresAt!.getTime() - Date.now()).toBeGreaterThan(50 * MINUTE);
		const server = await watchServer();
		const fromSeen = seen.length;
		const fromEvents = events.length;
		const response = await getSession(session);
		expect(response.ok && response.data.did).toBe(alice.did);

		// the first proof, stamped on the client's clock an hour behind, is refused; the client takes
		// the server's clock from its Date and sends it again: then the token itself is refused, and
		// refreshed (the identity checked first)
		expect(
			seen.slice(fromSeen).map(({ status, path, error }) => `${status} ${path} ${error ?? ''}`.trim()),
		).toEqual([
			'401 /xrpc/com.atproto.server.getSession invalid_dpop_proof',
			'401 /xrpc/com.atproto.server.getSession invalid_token',
			'200 /.well-known/oauth-protected-resource',
			'200 /oauth/token',
			'200 /xrpc/com.atproto.server.getSession',
		]);
		expect((await server()).filter((line) => line.includes('/oauth/token'))).toEqual([
			'200 POST /oauth/token',
		]);
		// the new tokens are stored (the refresh token rotated), and reported
		const stored = (await stores.sessions.get(alice.did))!.tokenSet;
		expect(stored.access_token).not.toBe(held.access_token);
		expect(stored.refresh_token).not.toBe(held.refresh_token);
		await expect.poll(() => events.slice(fromEvents).map((event) => event.type)).toEqual(['updated']);
		// and they work on: no refresh more
		const again = await watchServer();
		expect((await getSession(session)).ok).toBe(true);
		expect(await again()).toEqual(['200 GET /xrpc/com.atproto.server.getSession']);
	});

	it('a refresh token left unused past its 3 months (both clocks moved on) ends the session, once', async () => {
		const { oauth, stores, seen, events, wait } = await clientOnPdsTime();
		const { session } = await signIn(oauth, network, alice);

		// unused for 90 days, twice: each call refreshes (the limit counts from the last refresh)
		for (let round = 0; round < 2; round++) {
			await wait(90 * DAY);
			const fromSeen = seen.length;
			expect((await getSession(session)).ok).toBe(true);
			// its proofs carried the nonce of 90 days ago: asked for the new one, then refreshed
			expect(tokenRequests(seen.slice(fromSeen))).toEqual(['400 use_dpop_nonce', '200']);
		}

		await wait(REFRESH_INACTIVITY_LIMIT + DAY);
		const server = await watchServer();
		const fromEvents = events.length;
		let fromSeen = seen.length;
		const failed = await getSession(session).catch((err: unknown) => err);
		expect(failed).toBeInstanceOf(TokenRefreshError);
		expect(failed).toMatchObject({ reason: 'invalid_grant', cause: expect.any(OAuthResponseError) });
		expect((failed as TokenRefreshError).message).toMatch(/Refresh token expired/);
		// the token was stale on the client's clock: the refresh went first, refused once (after the
		// new nonce), and nothing after it
		expect(tokenRequests(seen.slice(fromSeen))).toEqual(['400 use_dpop_nonce', '400 invalid_grant']);
		expect((await server()).filter((line) => !line.includes('/.well-known/'))).toEqual([
			'400 POST /oauth/token',
			'400 POST /oauth/token',
		]);
		await expectEndedForGrant(stores, () => events.slice(fromEvents));

		// the session object sends its dead tokens no more
		fromSeen = seen.length;
		await expect(getSession(session)).rejects.toBeInstanceOf(SessionNotFoundError);
		await expect(oauth.restore(alice.did)).rejects.toBeInstanceOf(SessionNotFoundError);
		expect(seen.slice(fromSeen)).toEqual([]);
	});

	it('a grant refreshed every 90 days ends at 2 years: its last access token lives only to that end', async () => {
		const { oauth, stores, events, seen, wait, now } = await clientOnPdsTime();
		const { session } = await signIn(oauth, network, alice);
		const signedInAt = Date.now();

		for (let round = 0; round < 8; round++) {
			await wait(90 * DAY);
			expect((await getSession(session)).ok).toBe(true);
		}
		// half an hour before the grant's end: the token refreshed now is cut to that half hour
		await wait(SESSION_LIFETIME - 8 * 90 * DAY - 30 * MINUTE);
		const { expiresAt } = await session.refresh();
		const left = expiresAt!.getTime() - now();
		expect(left).toBeGreaterThan(28 * MINUTE);
		expect(left).toBeLessThanOrEqual(30 * MINUTE);
		// the grant's end: two years from the sign-in (on the client's clock, moved with the server's)
		expect(Math.abs(expiresAt!.getTime() - signedInAt - SESSION_LIFETIME)).toBeLessThan(5000);
		expect((await getSession(session)).ok).toBe(true);

		await wait(31 * MINUTE);
		const fromEvents = events.length;
		const fromSeen = seen.length;
		const failed = await getSession(session).catch((err: unknown) => err);
		expect(failed).toBeInstanceOf(TokenRefreshError);
		expect(failed).toMatchObject({ reason: 'invalid_grant' });
		expect((failed as TokenRefreshError).message).toMatch(/Session expired/);
		// stale on the client's clock: refreshed before sending (after the new nonce), refused once,
		// nothing else sent
		const sent = seen.slice(fromSeen).filter((response) => !response.path.startsWith('/.well-known/'));
		expect(sent.map(({ status, path, error }) => `${status} ${path} ${error}`)).toEqual([
			'400 /oauth/token use_dpop_nonce',
			'400 /oauth/token invalid_grant',
		]);
		await expectEndedForGrant(stores, () => events.slice(fromEvents));
	});

	it("a refresh in the grant's last second takes the token that expires at once; the end is invalid_grant", async () => {
		const { oauth, stores, events, seen, moveTo, now } = await clientOnPdsTime();
		const { url } = await oauth.authorize({ target: { type: 'account', identifier: alice.handle } });
		const redirect = await authorizeWithPassword(url, { username: alice.handle, password: alice.password });
		// the grant starts at the code's exchange, within the callback
		const before = Date.now();
		const { session } = await oauth.callback(redirect.searchParams);
		const grantStart = (before + Date.now()) / 2;
		for (let round = 1; round <= 8; round++) {
			await moveTo(round * 90 * DAY);
			expect((await getSession(session)).ok).toBe(true);
		}
		// 5 s before the end: refreshed (a token of 5 s at most) and the server's nonce learnt, so
		// the next refresh goes in one request
		const end = grantStart + SESSION_LIFETIME;
		await moveTo(Math.round(end - 5000 - Date.now()));
		expect((await getSession(session)).ok).toBe(true);

		// half a second before the end the server answers with "expires_in": 0 (it counts whole
		// seconds down): a token that expires at once, not a malformed answer (which revoked the
		// tokens and ended the session as invalid_response). on a slow machine the refresh may
		// arrive after the end: then it is refused as invalid_grant at once, which this test allows
		await moveTo(Math.round(end - 500 - Date.now()));
		const fromSeen = seen.length;
		const fromEvents = events.length;
		const refreshed = await session.refresh().then(
			({ expiresAt }) => expiresAt!.getTime() - now(),
			(err: unknown) => err,
		);
		if (typeof refreshed === 'number') {
			expect(refreshed).toBeLessThanOrEqual(1000);
			await moveTo(Math.round(end + 2000 - Date.now()));
			const failed = await getSession(session).catch((err: unknown) => err);
			expect(failed).toBeInstanceOf(TokenRefreshError);
			expect(failed).toMatchObject({ reason: 'invalid_grant' });
		} else {
			expect(refreshed).toBeInstanceOf(TokenRefreshError);
			expect(refreshed).toMatchObject({ reason: 'invalid_grant' });
		}
		// nothing revoked (the grant ended by itself), the session deleted once, for its end
		expect(seen.slice(fromSeen).filter((response) => response.path === '/oauth/revoke')).toEqual([]);
		await expectEndedForGrant(stores, () =>
			events.slice(fromEvents).filter((event) => event.type === 'deleted'),
		);
	});

	it('a pushed request that expired before its authorization page opened: the callback fails, nothing stored', async () => {
		const { oauth, stores, events } = await testClient();
		// within its 5 minutes the request opens: the page itself, no redirect
		const inTime = await oauth.authorize({ target: { type: 'account', identifier: alice.handle } });
		await network.advancePdsClock(PAR_LIFETIME - 10_000);
		expect(await openAuthorizationPage(inTime.url)).toBeUndefined();

		const { url } = await oauth.authorize({
			target: { type: 'account', identifier: alice.handle },
			state: { returnTo: '/protected' },
		});
		await network.advancePdsClock(PAR_LIFETIME + 1000);
		// the provider sends the browser back to the client with the error
		const redirect = await openAuthorizationPage(url);
		expect(redirect?.searchParams.get('error')).toBe('access_denied');
		const failed = await oauth.callback(redirect!.searchParams).catch((err: unknown) => err);
		expect(failed).toBeInstanceOf(OAuthCallbackError);
		expect(failed).toMatchObject({
			error: 'access_denied',
			errorDescription: 'This request has expired',
			state: { returnTo: '/protected' },
		});
		expect(await stores.sessions.get(alice.did)).toBeUndefined();
		expect(events).toEqual([]);
	});

	it('an authorization code that expired before the callback: the exchange is refused, nothing stored', async () => {
		const { oauth, stores, events, seen } = await testClient();
		// a code exchanged within its 5 minutes signs in, though the server's clock is then 4.5 minutes
		// ahead of the client's
		const { url: inTimeUrl } = await oauth.authorize({
			target: { type: 'account', identifier: alice.handle },
		});
		const inTime = await authorizeWithPassword(inTimeUrl, {
			username: alice.handle,
			password: alice.password,
		});
		await network.advancePdsClock(CODE_LIFETIME - 30_000);
		const { session } = await oauth.callback(inTime.searchParams);
		expect((await getSession(session)).ok).toBe(true);
		const held = (await stores.sessions.get(alice.did))!.tokenSet;
		await expect.poll(() => events.length).toBe(1);

		const { url } = await oauth.authorize({ target: { type: 'account', identifier: alice.handle } });
		const late = await authorizeWithPassword(url, { username: alice.handle, password: alice.password });
		await network.advancePdsClock(CODE_LIFETIME + 1000);
		const fromSeen = seen.length;
		const failed = await oauth.callback(late.searchParams).catch((err: unknown) => err);
		expect(failed).toBeInstanceOf(OAuthResponseError);
		expect(failed).toMatchObject({
			endpoint: 'token',
			error: 'invalid_grant',
			errorDescription: 'This code has expired',
		});
		// the first proof, stamped on the server's clock as the client last read it (5 minutes behind
		// now), is refused before the code is looked at; then the code, once
		expect(tokenRequests(seen.slice(fromSeen))).toEqual(['401 invalid_dpop_proof', '400 invalid_grant']);
		// the session from before is untouched, no other stored, nothing reported
		expect((await stores.sessions.get(alice.did))!.tokenSet).toEqual(held);
		expect(events).toHaveLength(1);
		// and the callback cannot be replayed
		await expect(oauth.callback(late.searchParams)).rejects.toMatchObject({ error: 'invalid_state' });
	});
});

describe('a steppable clock whose PDS has stopped', () => {
	it(
		'refuses to move, keeps the offset it had, and leaves nothing uncaught',
		async () => {
			const stopped = await startLocalNetwork({ steppableClock: true });
			try {
				await stopped.advancePdsClock(MINUTE);
				process.kill(stopped.pid, 'SIGKILL');
				// no turn of the event loop meanwhile: the process is gone, its 'exit' not seen yet, so
				// the command is written into a closed pipe (an EPIPE nobody listened for was uncaught)
				const until = Date.now() + 300;
				while (Date.now() < until) {}
				await expect(stopped.setPdsClockOffset(HOUR)).rejects.toThrow(/has stopped/);
				await expect(stopped.advancePdsClock(MINUTE)).rejects.toThrow(/has stopped/);
				expect(stopped.pdsClockOffset).toBe(MINUTE);
			} finally {
				await stopped.close();
			}
			// it starts a network of its own: a start's time, not a test's 5 s
		},
		START_TIMEOUT_MS,
	);
});
