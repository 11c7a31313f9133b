import type { Did } from '@atcute/lexicons';
import { MemoryDpopNonceCache } from '@atcute/oauth-dpop';
import { describe, expect, it, vi } from 'vitest';

import { NO_NONCE_MEMORY_MS, NONCE_FRESH_MS } from './constants.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { CREATE_RECORD, createRecord, streamOf } from './test-utils/create-record.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	signIn,
	type TestClock,
	type TestOAuthServer,
	type TestServerEnv,
	useTestServer,
} from './test-utils/setup.ts';
import type { OAuthTracer } from './tracer.ts';

// a stream cannot be sent again, so the DPoP layer cannot retry it on `use_dpop_nonce`: the
// session learns the PDS's current nonce with a body-less call first, when it may not know it
describe('OAuthSession with a body that cannot be sent twice', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let clock: TestClock;
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, clock, createTestClient } = env));

	/** alice signed in; returns the stored sessions and the key, for a new process's client. */
	const signedIn = async () => {
		const { client, sessions, key } = await createTestClient(server);
		await signIn(server, client, alice.did);
		return { sessions, key };
	};

	/** the PDS's authenticated requests from `from` on: `status method path` each. */
	const pdsCalls = (from: number): string[] =>
		server.stats.requests
			.slice(from)
			.filter((request) => request.server === 'pds' && request.path.startsWith('/xrpc/com.atproto.'))
			.map((request) => `${request.status} ${request.method} ${request.path}`);

	const PROBE = [
		'401 GET /xrpc/com.atproto.server.getSession',
		'200 GET /xrpc/com.atproto.server.getSession',
	];

	it('a new process (no nonce known) sends one probe before a stream, then none while the nonce is fresh', async () => {
		const { sessions, key } = await signedIn();
		const spans: string[] = [];
		const tracer: OAuthTracer = {
			trace: (operation, context, fn) =>
				fn().finally(() => {
					if (operation === 'request') spans.push(JSON.stringify(context));
				}),
		};
		// a new process: the same stored session and key, its own memory (no nonces)
		const { client } = await createTestClient(server, { sessions, key, tracer });
		const session = await client.restore(alice.did);

		let from = server.stats.requests.length;
		const response = await createRecord(session, streamOf('{"rkey":"one"}'));
		expect(response.status).toBe(200);
		expect((await response.json()).echo).toEqual({ rkey: 'one' });
		// the probe (refused once for its nonce, then answered), then the stream, sent once
		expect(pdsCalls(from)).toEqual([...PROBE, '200 POST /xrpc/com.atproto.repo.createRecord']);
		// one request span, the stream's own: the probe is not traced as a request
		expect(spans).toHaveLength(1);
		expect(JSON.parse(spans[0]!)).toMatchObject({ method: 'POST', pathname: CREATE_RECORD, status: 200 });

		// the nonce was seen just now: the next stream goes straight
		from = server.stats.requests.length;
		expect((await createRecord(session, streamOf('{"rkey":"two"}'))).status).toBe(200);
		expect(pdsCalls(from)).toEqual(['200 POST /xrpc/com.atproto.repo.createRecord']);

		// another session of the same client shares what it saw
		const again = await client.restore(alice.did);
		from = server.stats.requests.length;
		expect((await createRecord(again, streamOf('{}'))).status).toBe(200);
		expect(pdsCalls(from)).toEqual(['200 POST /xrpc/com.atproto.repo.createRecord']);
		server.assertNoRejections();
	});

	it('probes again once the nonce was seen more than 60 s ago (the server rotated since)', async () => {
		const { client } = await createTestClient(server);
		const session = (await signIn(server, client, alice.did)).session;
		expect((await createRecord(session, streamOf('{}'))).status).toBe(200);

		// idle: the reference server rotates every 60 s and takes the previous and next nonce too;
		// here it moved on at once
		clock.advance(NONCE_FRESH_MS + 1000);
		server.rotateNonce('pds');
		const from = server.stats.requests.length;
		const response = await createRecord(session, streamOf('{"rkey":"later"}'));
		expect(response.status).toBe(200);
		expect(pdsCalls(from)).toEqual([...PROBE, '200 POST /xrpc/com.atproto.repo.createRecord']);
	});

	it('a nonce seen by any call less than 60 s ago is taken as current', async () => {
		const { client } = await createTestClient(server);
		const session = (await signIn(server, client, alice.did)).session;
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		clock.advance(NONCE_FRESH_MS - 1000);
		const from = server.stats.requests.length;
		expect((await createRecord(session, streamOf('{}'))).status).toBe(200);
		expect(pdsCalls(from)).toEqual(['200 POST /xrpc/com.atproto.repo.createRecord']);
	});

	it('probes when the nonce cache no longer holds the PDS nonce it saw moments ago', async () => {
		// a cache of one origin: the authorization server's nonce, learnt by a refresh, takes its place
		const stores = {
			sessions: new MapStore<StoredSession>(),
			states: new MapStore<StoredState>(),
			dpopNonces: new MemoryDpopNonceCache({ maxSize: 1 }),
		};
		const { client } = await createTestClient(server, { stores });
		const session = (await signIn(server, client, alice.did)).session;
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		await session.refresh();
		const from = server.stats.requests.length;
		expect((await createRecord(session, streamOf('{}'))).status).toBe(200);
		expect(pdsCalls(from)).toEqual([...PROBE, '200 POST /xrpc/com.atproto.repo.createRecord']);
	});

	it('a probe refreshes a stale token first, and the stream goes with the new one', async () => {
		const { sessions, key } = await signedIn();
		const { client } = await createTestClient(server, { sessions, key });
		const session = await client.restore(alice.did);
		// expired at the server too: it shares the clock
		clock.advance(2 * 3600 * 1000);
		const from = server.stats.requests.length;
		expect((await createRecord(session, streamOf('{}'))).status).toBe(200);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(pdsCalls(from)).toEqual([...PROBE, '200 POST /xrpc/com.atproto.repo.createRecord']);
		server.assertNoRejections();
	});

	it('a body that can be sent again (a Blob, a string) is never preceded by a probe', async () => {
		const { sessions, key } = await signedIn();
		const { client } = await createTestClient(server, { sessions, key });
		const session = await client.restore(alice.did);
		for (const body of [new Blob(['{}']), '{}']) {
			server.rotateNonce('pds');
			const from = server.stats.requests.length;
			expect((await createRecord(session, body)).status).toBe(200);
			// refused for its nonce and sent again by the DPoP layer, as always
			expect(pdsCalls(from)).toEqual([
				'401 POST /xrpc/com.atproto.repo.createRecord',
				'200 POST /xrpc/com.atproto.repo.createRecord',
			]);
		}
	});

	it('a PDS that answers the probe without a DPoP-Nonce is not probed again (for 10 minutes)', async () => {
		const { sessions, key } = await signedIn();
		// a PDS that does not use nonces: its answers carry none, and it takes any proof. played by
		// stripping the header from the test PDS's answers, with the nonce it takes known beforehand
		const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
			const response = await globalThis.fetch(input, init);
			const url = input instanceof Request ? input.url : String(input);
			if (!url.startsWith(`${server.pdsUrl}/`)) return response;
			const headers = new Headers(response.headers);
			headers.delete('dpop-nonce');
			return new Response(response.body, { status: response.status, headers });
		};
		const dpopNonces = new MemoryDpopNonceCache();
		dpopNonces.set(server.pdsUrl, server.nonces.pds);
		const stores = { sessions, states: new MapStore<StoredState>(), dpopNonces };
		const { client } = await createTestClient(server, { key, fetch, stores });
		const session = await client.restore(alice.did);

		let from = server.stats.requests.length;
		expect((await createRecord(session, streamOf('{}'))).status).toBe(200);
		expect(pdsCalls(from)).toEqual([
			'200 GET /xrpc/com.atproto.server.getSession',
			'200 POST /xrpc/com.atproto.repo.createRecord',
		]);

		// nor after a minute, when a PDS with nonces would be probed again
		clock.advance(NONCE_FRESH_MS + 1000);
		from = server.stats.requests.length;
		expect((await createRecord(session, streamOf('{}'))).status).toBe(200);
		expect(pdsCalls(from)).toEqual(['200 POST /xrpc/com.atproto.repo.createRecord']);

		// after 10 minutes it is asked again (it may use nonces by now)
		clock.advance(NO_NONCE_MEMORY_MS);
		from = server.stats.requests.length;
		expect((await createRecord(session, streamOf('{}'))).status).toBe(200);
		expect(pdsCalls(from)).toEqual([
			'200 GET /xrpc/com.atproto.server.getSession',
			'200 POST /xrpc/com.atproto.repo.createRecord',
		]);
	});

	it('an abort during the probe rejects with its reason, and the stream is not sent', async () => {
		const { sessions, key } = await signedIn();
		const { client } = await createTestClient(server, { sessions, key });
		const session = await client.restore(alice.did);
		server.behaviour.resourceDelayMs = 10_000;
		const controller = new AbortController();
		const reason = new Error('the visitor left');
		const from = server.stats.requests.length;
		const call = createRecord(session, streamOf('{}'), controller.signal);
		// the probe reached the PDS with its nonce, and is held there
		await vi.waitFor(() => {
			expect(server.stats.requests.slice(from).some((request) => request.proof === 'valid')).toBe(true);
		});
		controller.abort(reason);
		await expect(call).rejects.toBe(reason);
		expect(pdsCalls(from).filter((call) => call.includes('createRecord'))).toEqual([]);
	});

	it("bounds a nonce cache that never answers by the request's signal", async () => {
		const { sessions, key } = await signedIn();
		// an async cache (a shared store) whose read of the PDS's nonce never settles
		const dpopNonces = {
			get: (origin: string) =>
				origin === server.pdsUrl ? new Promise<string | undefined>(() => {}) : Promise.resolve(undefined),
			set: () => {},
		};
		const stores = { sessions, states: new MapStore<StoredState>(), dpopNonces };
		const { client } = await createTestClient(server, { key, stores });
		const session = await client.restore(alice.did);
		const reason = new Error('deadline');
		const controller = new AbortController();
		const call = createRecord(session, streamOf('{}'), controller.signal);
		setTimeout(() => controller.abort(reason), 50);
		await expect(call).rejects.toBe(reason);
	});

	it('takes an empty nonce in the cache for none, and probes', async () => {
		const dpopNonces = new MemoryDpopNonceCache();
		const stores = {
			sessions: new MapStore<StoredSession>(),
			states: new MapStore<StoredState>(),
			dpopNonces,
		};
		const { client } = await createTestClient(server, { stores });
		const session = (await signIn(server, client, alice.did)).session;
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		// as earlier releases stored them: the DPoP layer sends no nonce for it
		dpopNonces.set(server.pdsUrl, '');
		const from = server.stats.requests.length;
		expect((await createRecord(session, streamOf('{}'))).status).toBe(200);
		expect(pdsCalls(from)).toEqual([...PROBE, '200 POST /xrpc/com.atproto.repo.createRecord']);
	});

	it('streams sent at once on a new process share one probe', async () => {
		const { sessions, key } = await signedIn();
		const { client } = await createTestClient(server, { sessions, key });
		const session = await client.restore(alice.did);
		const other = await client.restore(alice.did);
		const from = server.stats.requests.length;
		const responses = await Promise.all([
			createRecord(session, streamOf('{"rkey":"a"}')),
			createRecord(session, streamOf('{"rkey":"b"}')),
			createRecord(other, streamOf('{"rkey":"c"}')),
		]);
		expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
		const calls = pdsCalls(from);
		expect(calls.filter((call) => call.includes('getSession'))).toEqual(PROBE);
		expect(calls.filter((call) => call.includes('createRecord'))).toEqual(
			Array(3).fill('200 POST /xrpc/com.atproto.repo.createRecord'),
		);
		server.assertNoRejections();
	});

	it("a stream waiting for another's probe is given up on its own signal; the other goes on", async () => {
		const { sessions, key } = await signedIn();
		const { client } = await createTestClient(server, { sessions, key });
		const session = await client.restore(alice.did);
		server.behaviour.resourceDelayMs = 300;
		const from = server.stats.requests.length;
		const first = createRecord(session, streamOf('{"rkey":"first"}'));
		const controller = new AbortController();
		const reason = new Error('the visitor left');
		const second = createRecord(session, streamOf('{"rkey":"second"}'), controller.signal);
		controller.abort(reason);
		await expect(second).rejects.toBe(reason);
		// at once: not after the probe it waited for
		expect(pdsCalls(from)).not.toContain(PROBE[1]);
		expect((await first).status).toBe(200);
		expect(pdsCalls(from)).toEqual([...PROBE, '200 POST /xrpc/com.atproto.repo.createRecord']);
	});

	it('a stream whose shared probe was given up by its sender sends its own, and goes', async () => {
		const { sessions, key } = await signedIn();
		const { client } = await createTestClient(server, { sessions, key });
		const session = await client.restore(alice.did);
		server.behaviour.resourceDelayMs = 300;
		const from = server.stats.requests.length;
		const controller = new AbortController();
		const reason = new Error('the first visitor left');
		const first = createRecord(session, streamOf('{"rkey":"first"}'), controller.signal);
		const second = createRecord(session, streamOf('{"rkey":"second"}'));
		// the first probe reached the PDS with its nonce, and is held there
		await vi.waitFor(() => {
			expect(server.stats.requests.slice(from).some((request) => request.proof === 'valid')).toBe(true);
		});
		controller.abort(reason);
		await expect(first).rejects.toBe(reason);
		expect((await second).status).toBe(200);
		// the first probe (answered after all, its caller gone), then the second's own probe (the
		// nonce known by now), then its stream; the first stream never went
		expect(pdsCalls(from)).toEqual([
			...PROBE,
			'200 GET /xrpc/com.atproto.server.getSession',
			'200 POST /xrpc/com.atproto.repo.createRecord',
		]);
	});

	it('shares no probe with another object of the account holding other tokens: each stream checks its own', async () => {
		const { sessions, key } = await signedIn();
		const { client } = await createTestClient(server, { sessions, key });
		// y holds tokens that x's refresh then replaced: the PDS refuses them
		const y = await client.restore(alice.did);
		const x = await client.restore(alice.did);
		await x.refresh();
		const from = server.stats.requests.length;
		const [forX, forY] = await Promise.all([
			createRecord(x, streamOf('{"rkey":"x"}')),
			createRecord(y, streamOf('{"rkey":"y"}')),
		]);
		expect([forX.status, forY.status]).toEqual([200, 200]);
		// y's own probe found its token refused, and adopted x's: its stream went with them
		expect(pdsCalls(from).filter((call) => call.startsWith('401 POST'))).toEqual([]);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it("does not hold one account's stream up behind another account's refresh", async () => {
		const bob = server.createAccount({ handle: `bob-${Date.now()}.test` }) as { did: Did; handle: string };
		const { client, sessions, key } = await createTestClient(server);
		await signIn(server, client, alice.did);
		// bob's access token lives 5 s: stale once the clock moves on 6 s, alice's not
		server.behaviour.accessTokenTtl = 5;
		await signIn(server, client, bob.did);
		server.behaviour.accessTokenTtl = undefined;
		clock.advance(6_000);
		// a new process, whose first streams both need a probe; bob's refresh is slow
		const fresh = await createTestClient(server, { sessions, key });
		const forAlice = await fresh.client.restore(alice.did);
		const forBob = await fresh.client.restore(bob.did, { refresh: false });
		server.behaviour.tokenDelayMs = 1_000;
		let bobDone = false;
		const bobCall = createRecord(forBob, streamOf('{"rkey":"bob"}')).finally(() => {
			bobDone = true;
		});
		const aliceResponse = await createRecord(forAlice, streamOf('{"rkey":"alice"}'));
		expect(aliceResponse.status).toBe(200);
		// alice's stream went while bob's refresh was still waiting for its answer
		expect(bobDone).toBe(false);
		expect((await bobCall).status).toBe(200);
	});

	it('an already aborted signal rejects before anything is sent', async () => {
		const { sessions, key } = await signedIn();
		const { client } = await createTestClient(server, { sessions, key });
		const session = await client.restore(alice.did);
		const reason = new Error('gone');
		const from = server.stats.requests.length;
		await expect(createRecord(session, streamOf('{}'), AbortSignal.abort(reason))).rejects.toBe(reason);
		expect(pdsCalls(from)).toEqual([]);
	});
});
