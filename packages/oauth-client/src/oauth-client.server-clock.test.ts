import type { Did } from '@atcute/lexicons';
import { generatePrivateKey } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';

import { OAuthResponseError } from './errors.ts';
import { OAuthClient } from './oauth-client.ts';
import type { OAuthSession } from './oauth-session.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	actorResolverFor,
	createTestClient,
	signIn,
	type TestOAuthServer,
	testClock,
	useTestServer,
} from './test-utils/setup.ts';
import type { OAuthTracer } from './tracer.ts';

const GET_SESSION = '/xrpc/com.atproto.server.getSession';

/** the status a call through `session` gets from the PDS. */
const statusOf = async (session: OAuthSession): Promise<number> => {
	const response = await session.handle(GET_SESSION);
	await response.arrayBuffer();
	return response.status;
};

/**
 * signs `did` in, puts `server` `skew` seconds off our clock, and signs it out from another
 * process's client (the same store and key; it never heard from this server, so knows nothing
 * of its clock); expects the grant ended at the server and the sign-out to say so.
 */
const signOutFromFreshProcess = async (server: TestOAuthServer, did: Did, skew: number) => {
	const { client, sessions, key } = await createTestClient(server);
	await signIn(server, client, did);
	server.behaviour.clockSkewSeconds = skew;
	const { client: fresh } = await createTestClient(server, { sessions, key });
	const deleted: unknown[] = [];
	fresh.addEventListener((event) => {
		if (event.type === 'deleted') deleted.push(event);
	});
	await fresh.revoke(did);
	expect(server.sessions(did).at(-1)).toMatchObject({
		active: false,
		revokedReason: 'revoked by the client',
	});
	await expect.poll(() => deleted).toEqual([expect.objectContaining({ revokedAtServer: true })]);
};

// a server whose clock differs from ours by more than it allows for refuses every proof and
// assertion stamped on ours (`iat`): the client follows that server's clock, from its Date header
describe('OAuthClient with servers whose clock differs from ours', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => ({ server, alice } = env));

	/** the refusals so far, as `server path error`. */
	const refusals = () => server.stats.rejections.map((r) => `${r.server} ${r.path} ${r.error}`);

	for (const [skew, how] of [
		[600, 'ahead of'],
		[-600, 'behind'],
	] as const) {
		it(`signs in, calls the PDS and refreshes with both servers 10 minutes ${how} ours: one refusal per server`, async () => {
			// beyond the server's 60 s leeway, either way
			server.behaviour.clockSkewSeconds = skew;
			const { client } = await createTestClient(server);

			const { session } = await signIn(server, client, alice.did);
			expect(await statusOf(session)).toBe(200);
			await session.refresh();
			expect(await statusOf(session)).toBe(200);
			// a second sign-in, with a new DPoP key, is stamped on the server's clock from the start
			const again = await signIn(server, client, alice.did);
			expect(await statusOf(again.session)).toBe(200);

			// the first request to each server was refused for its stamp, and retried once
			expect(refusals()).toEqual([
				'as /oauth/par invalid_dpop_proof',
				`pds ${GET_SESSION} invalid_dpop_proof`,
			]);
			expect(server.stats.rejections[0]!.reason).toMatch(
				/"iat" is 60\d s (ahead of|behind) the server clock/,
			);
			expect(server.stats.token).toEqual({ authorization_code: 2, refresh_token: 1 });
		});
	}

	it('gives 20 concurrent first calls to a PDS on another clock one refusal in all, and none after', async () => {
		const { client } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		server.reset();
		server.behaviour.clockSkewSeconds = 600;

		// the PDS's nonce is new to this client (the server was reset): one call learns it, and the
		// others wait for its answer, which also puts the PDS on its own clock
		const first = await Promise.all(Array.from({ length: 20 }, () => statusOf(session)));
		expect(first).toEqual(Array(20).fill(200));
		expect(refusals()).toHaveLength(1);
		const again = await Promise.all(Array.from({ length: 20 }, () => statusOf(session)));
		expect(again).toEqual(Array(20).fill(200));
		expect(refusals()).toHaveLength(1);
	});

	it('refreshes once for 20 concurrent calls after our clock jumped 2 hours ahead of both servers', async () => {
		server.behaviour.clockSkewSeconds = -600;
		const clock = testClock();
		const { client } = await createTestClient(server, { clock });
		const { session } = await signIn(server, client, alice.did);
		expect(await statusOf(session)).toBe(200);
		const before = refusals().length;

		// the token is stale on our clock now, and every stamp on the offsets learnt is 2 h ahead
		clock.advance(2 * 3600_000);
		const restored = await client.restore(alice.did, { refresh: false });
		const statuses = await Promise.all(Array.from({ length: 20 }, () => statusOf(restored)));
		expect(statuses).toEqual(Array(20).fill(200));
		expect(server.stats.token.refresh_token).toBe(1);
		// the refresh's token request once, and each call's first try at the PDS
		const after = refusals().slice(before);
		expect(after.filter((refusal) => refusal.startsWith('as '))).toEqual([
			'as /oauth/token invalid_dpop_proof',
		]);
		expect(after.filter((refusal) => refusal.startsWith('pds ')).length).toBeLessThanOrEqual(20);
	});

	it("traces a PDS request's server clock offset once the PDS refused ours, and none before", async () => {
		const traced: Record<string, unknown>[] = [];
		const tracer: OAuthTracer = {
			trace: (operation, context, fn) =>
				fn().finally(() => {
					if (operation === 'request') traced.push({ ...context });
				}),
		};
		const { client } = await createTestClient(server, { tracer });
		const { session } = await signIn(server, client, alice.did);
		expect(await statusOf(session)).toBe(200);
		server.behaviour.clockSkewSeconds = -300;
		expect(await statusOf(session)).toBe(200);

		expect(traced).toHaveLength(2);
		expect(traced[0]).not.toHaveProperty('serverClockOffsetMs');
		expect(traced[1]).toMatchObject({ status: 200, pathname: GET_SESSION });
		// read from its Date: rounded down, and read after it was made
		const offset = traced[1]!.serverClockOffsetMs as number;
		expect(offset).toBeLessThanOrEqual(-300_000);
		expect(offset).toBeGreaterThan(-303_000);
	});

	it('keeps our clock for a server whose clock is within its leeway', async () => {
		server.behaviour.clockSkewSeconds = 30;
		const { client } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		expect(await statusOf(session)).toBe(200);
		expect(refusals()).toEqual([]);
	});

	// the reference server takes an assertion's `iat` only in its past (no leeway): a client clock
	// a moment fast, floored to the second, would have it refused
	it('is not refused by a server whose clock is a few seconds behind ours', async () => {
		server.behaviour.clockSkewSeconds = -3;
		const { client } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		await session.refresh();
		expect(await statusOf(session)).toBe(200);
		expect(refusals()).toEqual([]);
	});

	// the reference server answers a revocation 200 even when it refused the client: the client
	// can tell nothing from the answer, so its assertion must not be refused for its clock
	it('revokes from a fresh client whose clock is a few seconds ahead of the server', async () => {
		await signOutFromFreshProcess(server, alice.did, -3);
		expect(refusals()).toEqual([]);
	});

	// beyond the 5 s the assertion is dated back, the server refuses it, and still answers 200: the
	// answer's Date, earlier than the assertion, tells the refusal; sent once more on its clock
	it('revokes from a fresh client whose clock is 30 s ahead of the server, in a second request', async () => {
		await signOutFromFreshProcess(server, alice.did, -30);
		// each revocation (the refresh token's, the access token's), stamped on our clock, was
		// refused unseen once: the shared clocks are left alone, so the next sign-in starts on ours
		expect(refusals()).toEqual(['as /oauth/revoke invalid_client', 'as /oauth/revoke invalid_client']);
	});

	// a front proxy's wrong Date, on a server whose clock is right: a revocation's retry dated by it
	// is refused unseen too, and must not put the server on that clock for every later request
	it('keeps our clock for a server whose revocation answers carry a wrong Date', async () => {
		const clock = testClock();
		const wrongDate: typeof fetch = async (input, init) => {
			const response = await fetch(input, init);
			if (!String(input instanceof Request ? input.url : input).includes('/oauth/')) return response;
			const headers = new Headers(response.headers);
			headers.set('date', new Date(Date.now() - 57_000).toUTCString());
			return new Response(response.body, {
				status: response.status,
				statusText: response.statusText,
				headers,
			});
		};
		const { client } = await createTestClient(server, { clock, fetch: wrongDate });
		const { session } = await signIn(server, client, alice.did);
		await session.signOut();
		// later sign-ins and refreshes are stamped on our clock, as before the sign-out
		const again = await signIn(server, client, alice.did);
		await again.session.refresh();
		expect(await statusOf(again.session)).toBe(200);
		expect(refusals().filter((refusal) => !refusal.startsWith('as /oauth/revoke'))).toEqual([]);
	});

	it('sends a revocation once when the server took it', async () => {
		const { client } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const before = server.stats.requests.filter((request) => request.path === '/oauth/revoke').length;
		await client.revoke(alice.did);
		const revocations = server.stats.requests.filter((request) => request.path === '/oauth/revoke');
		// the refresh token, then the access token; each taken at once (a nonce challenge aside)
		expect(revocations.slice(before).filter((request) => request.status === 200)).toHaveLength(2);
		expect(refusals()).toEqual([]);
	});

	it('retries a refusal of the client that is not about the clock once, then reports it', async () => {
		const { client } = await createTestClient(server);
		// the server knows the client by another key: every assertion is refused
		const { client: impostor } = await createTestClient(server, { key: await generatePrivateKey('main') });
		expect(impostor.metadata.client_id).toBe(client.metadata.client_id);

		const authorize = () => client.authorize({ target: { type: 'account', identifier: alice.did } });
		const error = await authorize().catch((err: unknown) => err);
		expect(error).toBeInstanceOf(OAuthResponseError);
		expect(error).toMatchObject({ endpoint: 'par', error: 'invalid_client' });
		// once on our clock, once more on the server's (nothing said the clocks agreed)
		expect(refusals()).toEqual(['as /oauth/par invalid_client', 'as /oauth/par invalid_client']);

		// not again: the server's clock has not moved since
		await expect(authorize()).rejects.toMatchObject({ error: 'invalid_client' });
		expect(refusals()).toHaveLength(3);
	});

	it('shares what it learnt between the clients on one clock', async () => {
		server.behaviour.clockSkewSeconds = 600;
		const clock = testClock();
		const { client: first } = await createTestClient(server, { clock });
		await signIn(server, first, alice.did);
		expect(refusals()).toEqual(['as /oauth/par invalid_dpop_proof']);

		// a client made later on the same clock (an app that makes one per request) starts on the
		// server's clock; one on another clock does not
		const { client: second } = await createTestClient(server, { clock });
		const { session } = await signIn(server, second, alice.did);
		expect(await statusOf(session)).toBe(200);
		expect(refusals()).toEqual(['as /oauth/par invalid_dpop_proof', `pds ${GET_SESSION} invalid_dpop_proof`]);
		const { client: third } = await createTestClient(server);
		await signIn(server, third, alice.did);
		expect(refusals()).toHaveLength(3);
	});

	it('does not retry the invalid_client of a public client: it sends no assertion', async () => {
		// the server's PAR endpoint refuses the client, dated an hour ahead
		let pars = 0;
		const refusingPar: typeof fetch = async (input, init) => {
			const url = input instanceof Request ? input.url : String(input);
			if (!url.endsWith('/oauth/par')) return fetch(input, init);
			pars += 1;
			return new Response('{"error":"invalid_client"}', {
				status: 400,
				headers: { 'content-type': 'application/json', date: new Date(Date.now() + 3600_000).toUTCString() },
			});
		};
		const client = new OAuthClient({
			metadata: { redirect_uris: ['http://127.0.0.1:8080/callback'], scope: 'atproto' },
			stores: { sessions: new MapStore<StoredSession>(), states: new MapStore<StoredState>() },
			actorResolver: actorResolverFor(server),
			allowHttp: true,
			fetch: refusingPar,
		});
		await expect(
			client.authorize({ target: { type: 'account', identifier: alice.did } }),
		).rejects.toMatchObject({
			error: 'invalid_client',
		});
		expect(pars).toBe(1);
	});
});

// the reference server takes a DPoP proof up to 190 s old (its 10 s age and 3 min leeway), but a
// client assertion only up to 60 s old, and answers a revocation 200 whatever it refused: a client
// whose clock is a minute or more behind the server's sends proofs it takes and assertions it
// refuses unseen, so nothing makes the client follow the server's clock
describe('OAuthClient signing out behind a server whose proofs take the reference leeway', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => ({ server, alice } = env), { iatLeeway: 190 });

	// the answer's Date, a minute after the assertion's iat, tells the refusal: sent once more on
	// that clock, and the sign-out reports the grant revoked only once it is
	for (const skew of [62, 90, 150]) {
		it(`revokes from a fresh client whose clock is ${skew} s behind the server, in a second request`, async () => {
			await signOutFromFreshProcess(server, alice.did, skew);
			const refusals = server.stats.rejections.map((r) => `${r.server} ${r.path} ${r.error}`);
			expect(refusals).toEqual(['as /oauth/revoke invalid_client', 'as /oauth/revoke invalid_client']);
		});
	}

	// within the minute the assertion is taken at once: an answer's Date 25 s after it is no refusal,
	// and nothing is sent twice
	it('revokes from a fresh client whose clock is 20 s behind the server in one request per token', async () => {
		await signOutFromFreshProcess(server, alice.did, 20);
		const revocations = server.stats.requests.filter((request) => request.path === '/oauth/revoke');
		// the refresh token's and the access token's, a nonce challenge aside
		expect(revocations.filter((request) => request.status === 200)).toHaveLength(2);
		expect(server.stats.rejections).toEqual([]);
	});
});
