import type { JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { createDpopFetch, type FetchFunction } from './create-dpop-fetch.ts';
import { type DpopKey, generateDpopKey } from './dpop-key.ts';
import { type DpopNonceCache, MemoryDpopNonceCache } from './dpop-nonce-cache.ts';
import { type DpopTestServer, startDpopTestServer } from './test-utils/dpop-test-server.ts';

/** the nonce a request's proof carries. */
const nonceOf = (input: string | URL | Request, init?: RequestInit): unknown => {
	const proof = new Headers(init?.headers ?? (input as Request).headers).get('dpop')!;
	return (JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()) as JWTPayload).nonce;
};

/** a fetch whose answers the test gives, request by request, in the order they were sent. */
const heldFetch = () => {
	const sent: { nonce: unknown; answer: (response: Response) => void; fail: (err: Error) => void }[] = [];
	const fetch: FetchFunction = (input, init) =>
		new Promise((answer, fail) => sent.push({ nonce: nonceOf(input, init), answer, fail }));
	return { fetch, sent };
};

/**
 * waits until `sent` holds at least `count` requests (each goes once its proof is signed on the
 * thread pool, which a loaded machine may delay past any fixed time; 5 s at most), then lets every
 * pending turn of the event loop run, so that one sent beyond it would be seen.
 */
const settle = async (sent: readonly unknown[], count: number) => {
	for (let i = 0; i < 1_000 && sent.length < count; i++)
		await new Promise((resolve) => setTimeout(resolve, 5));
	await new Promise((resolve) => setTimeout(resolve, 20));
};

/**
 * turns of the event loop until `until()` or a bound: under fake timers, what waits on the thread
 * pool (a signature) still comes in its own time.
 */
const turns = async (until: () => boolean) => {
	for (let i = 0; i < 10_000 && !until(); i++) await new Promise((resolve) => setImmediate(resolve));
};

/** a use_dpop_nonce refusal: an authorization server's 400, or a resource server's 401. */
const refusal = (nonce: string, status: 400 | 401 = 400) =>
	status === 400
		? new Response('{"error":"use_dpop_nonce"}', {
				status,
				headers: { 'content-type': 'application/json', 'dpop-nonce': nonce },
			})
		: new Response('{"error":"use_dpop_nonce"}', {
				status,
				headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': nonce },
			});

describe('createDpopFetch, requests to an origin whose nonce is unknown', () => {
	let key: DpopKey;
	let server: DpopTestServer;

	beforeAll(async () => {
		key = await generateDpopKey();
		server = await startDpopTestServer();
	});
	afterAll(() => server?.close());
	beforeEach(() => server.clearRequests());
	afterEach(() => {
		vi.useRealTimers();
	});

	const post = (dpopFetch: FetchFunction) =>
		dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

	it('sends one to learn it, and the others with it once it is known: one refusal for 20 at once', async () => {
		const dpopFetch = createDpopFetch({ key });

		const statuses = await Promise.all(
			Array.from({ length: 20 }, async () => (await post(dpopFetch)).status),
		);

		expect(statuses).toEqual(Array(20).fill(200));
		// the learner's refusal, its retry, and the 19 others, each at the first try
		expect(server.requests.map((request) => request.status).sort()).toEqual([...Array(20).fill(200), 400]);
	});

	it('shares the learning between the fetches of one nonce cache (the sessions of a client)', async () => {
		const nonces = new MemoryDpopNonceCache();
		const other = await generateDpopKey();
		const fetches = [createDpopFetch({ key, nonces }), createDpopFetch({ key: other, nonces })];

		await Promise.all(Array.from({ length: 20 }, (_, i) => post(fetches[i % 2]!)));

		expect(server.requests.filter((request) => request.status === 400)).toHaveLength(1);
	});

	it('holds the others until the answer arrives, then sends them with its nonce', async () => {
		const { fetch, sent } = heldFetch();
		const dpopFetch = createDpopFetch({ key, fetch });

		const calls = Array.from({ length: 5 }, () => dpopFetch('https://pds.example/xrpc/a.b.c'));
		await settle(sent, 1);
		expect(sent.map((request) => request.nonce)).toEqual([undefined]);

		sent[0]!.answer(
			new Response('{"error":"use_dpop_nonce"}', {
				status: 401,
				headers: {
					'www-authenticate': 'DPoP error="use_dpop_nonce"',
					'dpop-nonce': 'n1',
				},
			}),
		);
		await settle(sent, 6);
		// the learner's retry and the four others, all with the nonce
		expect(sent.map((request) => request.nonce)).toEqual([undefined, 'n1', 'n1', 'n1', 'n1', 'n1']);
		for (const request of sent.slice(1)) request.answer(new Response('{}'));
		expect((await Promise.all(calls)).map((response) => response.status)).toEqual(Array(5).fill(200));
	});

	it('lets the others go at once, without a nonce, when the learner fails', async () => {
		const { fetch, sent } = heldFetch();
		const dpopFetch = createDpopFetch({ key, fetch });

		const learner = dpopFetch('https://pds.example/xrpc/a.b.c').catch((err: Error) => err.message);
		const others = Array.from({ length: 3 }, () => dpopFetch('https://pds.example/xrpc/a.b.c'));
		await settle(sent, 1);
		sent[0]!.fail(new Error('connection reset'));
		expect(await learner).toBe('connection reset');
		await settle(sent, 4);
		// the three go without a nonce, as none is known yet
		expect(sent.slice(1).map((request) => request.nonce)).toEqual([undefined, undefined, undefined]);
		for (const request of sent.slice(1)) request.answer(new Response('{}'));
		await Promise.all(others);
	});

	it("stops a wait at the waiter's signal, with its reason; the learner goes on", async () => {
		const { fetch, sent } = heldFetch();
		const dpopFetch = createDpopFetch({ key, fetch });

		const learner = dpopFetch('https://pds.example/xrpc/a.b.c');
		const controller = new AbortController();
		const waiter = dpopFetch('https://pds.example/xrpc/a.b.c', { signal: controller.signal }).catch(
			(err: unknown) => err,
		);
		await settle(sent, 1);
		controller.abort(new Error('gone away'));
		expect(await waiter).toMatchObject({ message: 'gone away' });
		expect(sent).toHaveLength(1);

		sent[0]!.answer(new Response('{}'));
		expect((await learner).status).toBe(200);
	});

	it('makes no request wait at an origin that answered a learner without a nonce', async () => {
		const { fetch, sent } = heldFetch();
		const dpopFetch = createDpopFetch({ key, fetch });

		// the first answer accepts a proof without a nonce, and names none
		const first = dpopFetch('https://as.example/oauth/par', { method: 'POST', body: 'a' });
		await settle(sent, 1);
		sent[0]!.answer(new Response('{}', { status: 201 }));
		await first;

		// from then on, concurrent requests are all out at once: none waits for another's answer
		const calls = Array.from({ length: 5 }, () =>
			dpopFetch('https://as.example/oauth/par', { method: 'POST', body: 'a' }),
		);
		await settle(sent, 6);
		expect(sent).toHaveLength(6);
		for (const request of sent.slice(1)) request.answer(new Response('{}', { status: 201 }));
		await Promise.all(calls);
	});

	it("waits 5 s at most from the learner's start, then sends without a nonce; a later request learns", async () => {
		// the waits on a clock the test moves (a proof is signed on the thread pool, which no fake
		// clock moves: waited for by turns of the event loop)
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
		const { fetch, sent } = heldFetch();
		const dpopFetch = createDpopFetch({ key, fetch });
		void dpopFetch('https://pds.example/xrpc/a.b.c').catch(() => {});
		await turns(() => sent.length === 1);

		const waiter = dpopFetch('https://pds.example/xrpc/a.b.c');
		await vi.advanceTimersByTimeAsync(4_900);
		await turns(() => sent.length > 1);
		expect(sent).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(200);
		await turns(() => sent.length > 1);
		expect(sent.map((request) => request.nonce)).toEqual([undefined, undefined]);
		sent[1]!.answer(new Response('{}'));
		expect((await waiter).status).toBe(200);

		// the first learner still hangs: a request made now does not wait for it, but learns itself,
		// and one made meanwhile waits for that one
		const learner = dpopFetch('https://pds.example/xrpc/a.b.c');
		await turns(() => sent.length > 2);
		const after = dpopFetch('https://pds.example/xrpc/a.b.c');
		await turns(() => sent.length > 3);
		expect(sent.map((request) => request.nonce)).toEqual([undefined, undefined, undefined]);
		sent[2]!.answer(refusal('n2', 401));
		await turns(() => sent.length > 4);
		expect(sent.slice(3).map((request) => request.nonce)).toEqual(['n2', 'n2']);
		for (const request of sent.slice(3)) request.answer(new Response('{}'));
		await Promise.all([learner, after]);
		sent[0]!.fail(new Error('given up'));
	});

	it("lets the waiting requests go with a nonce that any answer brings, not only the learner's", async () => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
		const { fetch, sent } = heldFetch();
		const dpopFetch = createDpopFetch({ key, fetch });
		// a learner that hangs, and a request that waited for it past its time and went without
		void dpopFetch('https://pds.example/xrpc/a.b.c').catch(() => {});
		await turns(() => sent.length === 1);
		const late = dpopFetch('https://pds.example/xrpc/a.b.c');
		await vi.advanceTimersByTimeAsync(5_100);
		await turns(() => sent.length === 2);
		expect(sent).toHaveLength(2);
		// a request made now learns anew (the first learning's time is up), one more waits for it
		const third = dpopFetch('https://pds.example/xrpc/a.b.c');
		await turns(() => sent.length === 3);
		const waiting = dpopFetch('https://pds.example/xrpc/a.b.c');
		await turns(() => sent.length > 3);
		expect(sent).toHaveLength(3);

		// the request that went late is the one answered with a nonce: the waiting one goes with it
		// (and the late one's own retry)
		sent[1]!.answer(refusal('n3', 401));
		await turns(() => sent.length === 5);
		expect(sent.slice(3).map((request) => request.nonce)).toEqual(['n3', 'n3']);
		for (const request of sent.slice(2)) request.answer(new Response('{}'));
		await Promise.all([late, third, waiting]);
		sent[0]!.fail(new Error('given up'));
	});

	it('shares a learnt nonce through an async cache whose write lands late', async () => {
		const store = new Map<string, string>();
		const nonces: DpopNonceCache = {
			get: async (origin) => store.get(origin),
			set: (origin, nonce) =>
				new Promise((resolve) =>
					setTimeout(() => {
						store.set(origin, nonce);
						resolve();
					}, 50),
				),
		};
		const other = await generateDpopKey();
		const fetches = [createDpopFetch({ key, nonces }), createDpopFetch({ key: other, nonces })];

		await Promise.all(Array.from({ length: 20 }, (_, i) => post(fetches[i % 2]!)));

		expect(server.requests.filter((request) => request.status === 400)).toHaveLength(1);
	});

	it('waits again at an origin that sent a nonce after answering a learner without one', async () => {
		// a cache that keeps nothing: every request finds no nonce
		const forgetful: DpopNonceCache = { get: () => undefined, set: () => {} };
		const { fetch, sent } = heldFetch();
		const dpopFetch = createDpopFetch({ key, fetch, nonces: forgetful });

		// a public route answers without a nonce: its requests stop waiting for one
		const first = dpopFetch('https://pds.example/xrpc/a.public');
		await settle(sent, 1);
		sent[0]!.answer(new Response('{}'));
		await first;
		// then the origin does send one: it uses nonces after all
		const second = dpopFetch('https://pds.example/xrpc/a.b.c');
		await settle(sent, 2);
		sent[1]!.answer(refusal('n4', 401));
		await settle(sent, 3);
		sent[2]!.answer(new Response('{}'));
		await second;

		// so requests wait for a learner again: one goes, the others with the nonce it brings
		const burst = Array.from({ length: 3 }, () => dpopFetch('https://pds.example/xrpc/a.b.c'));
		await settle(sent, 4);
		expect(sent.slice(3).map((request) => request.nonce)).toEqual([undefined]);
		sent[3]!.answer(refusal('n5', 401));
		await settle(sent, 7);
		expect(sent.slice(4).map((request) => request.nonce)).toEqual(['n5', 'n5', 'n5']);
		for (const request of sent.slice(4)) request.answer(new Response('{}'));
		await Promise.all(burst);
	});

	it('holds no listener warning on one signal shared by the waiting requests', async () => {
		const warnings: string[] = [];
		const onWarning = (warning: Error) => warnings.push(warning.name);
		process.on('warning', onWarning);
		try {
			const dpopFetch = createDpopFetch({ key });
			const { signal } = new AbortController();
			await Promise.all(
				Array.from({ length: 20 }, () =>
					dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1', signal }),
				),
			);
			await settle([], 0);
		} finally {
			process.off('warning', onWarning);
		}
		expect(warnings).toEqual([]);
	});

	it('lets the waiting requests go with a nonce an answer repeats (another fetch of the cache knew it)', async () => {
		// a cache whose writes fail: fetch A keeps the nonce itself, fetch B of the same cache knows none
		const nonces: DpopNonceCache = {
			get: () => undefined,
			set: () => {
				throw new Error('cache down');
			},
		};
		const { fetch, sent } = heldFetch();
		const a = createDpopFetch({ key, fetch, nonces });
		const b = createDpopFetch({ key, fetch, nonces });
		const learnt = a('https://pds.example/xrpc/a.b.c');
		await settle(sent, 1);
		sent[0]!.answer(refusal('n1', 401));
		await settle(sent, 2);
		sent[1]!.answer(new Response('{}', { headers: { 'dpop-nonce': 'n1' } }));
		await learnt;

		// B learns (held), and one more of B's waits; A's answer, with the nonce A sent, lets it go
		const learner = b('https://pds.example/xrpc/a.b.c');
		const waiter = b('https://pds.example/xrpc/a.b.c');
		await settle(sent, 3);
		const known = a('https://pds.example/xrpc/a.b.c');
		await settle(sent, 4);
		sent[3]!.answer(new Response('{}', { headers: { 'dpop-nonce': 'n1' } }));
		await known;
		await settle(sent, 5);
		expect(sent.map((request) => request.nonce)).toEqual([undefined, 'n1', undefined, 'n1', 'n1']);
		sent[2]!.answer(new Response('{}', { headers: { 'dpop-nonce': 'n1' } }));
		sent[4]!.answer(new Response('{}', { headers: { 'dpop-nonce': 'n1' } }));
		await Promise.all([learner, waiter]);
	});

	it('takes no redirect answered to a learner as a sign the origin uses no nonces', async () => {
		const { fetch, sent } = heldFetch();
		const dpopFetch = createDpopFetch({ key, fetch });
		const first = dpopFetch('https://pds.example/xrpc/a.moved', { redirect: 'manual' });
		await settle(sent, 1);
		sent[0]!.answer(new Response(null, { status: 302, headers: { location: 'https://cdn.example/x' } }));
		await first;

		// the next burst still sends one to learn, the others wait
		const burst = Array.from({ length: 5 }, () => dpopFetch('https://pds.example/xrpc/a.b.c'));
		await settle(sent, 2);
		expect(sent).toHaveLength(2);
		sent[1]!.answer(refusal('n6', 401));
		await settle(sent, 7);
		for (const request of sent.slice(2)) request.answer(new Response('{}'));
		await Promise.all(burst);
		expect(sent.slice(2).map((request) => request.nonce)).toEqual(Array(5).fill('n6'));
	});

	it('lets a learner whose time was up no longer speak for the one that learns in its place', async () => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
		const { fetch, sent } = heldFetch();
		const dpopFetch = createDpopFetch({ key, fetch });
		const slow = dpopFetch('https://pds.example/xrpc/a.slowPublic');
		await turns(() => sent.length === 1);
		await vi.advanceTimersByTimeAsync(5_100);
		const learner = dpopFetch('https://pds.example/xrpc/a.b.c');
		await turns(() => sent.length === 2);
		const waiters = Array.from({ length: 3 }, () => dpopFetch('https://pds.example/xrpc/a.b.c'));
		await turns(() => sent.length > 2);

		// the first learner's public route answers at last, without a nonce: the waiters stay
		sent[0]!.answer(new Response('{}'));
		await slow;
		await turns(() => sent.length > 2);
		expect(sent).toHaveLength(2);
		sent[1]!.answer(refusal('n7', 401));
		await turns(() => sent.length === 6);
		expect(sent.slice(2).map((request) => request.nonce)).toEqual(Array(4).fill('n7'));
		for (const request of sent.slice(2)) request.answer(new Response('{}'));
		await Promise.all([learner, ...waiters]);
	});

	it('sends the requests whose wait ran out with a nonce the cache holds by then', async () => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
		const { fetch, sent } = heldFetch();
		const dpopFetch = createDpopFetch({ key, fetch });
		void dpopFetch('https://as.example/oauth/par', { method: 'POST', body: 'a' }).catch(() => {});
		await turns(() => sent.length === 1);
		const waiters = Array.from({ length: 3 }, () =>
			dpopFetch('https://as.example/oauth/par', { method: 'POST', body: 'a' }),
		);
		await turns(() => sent.length > 1);
		// the refusal's nonce is stored at its headers; its body never ends, so it is never read
		sent[0]!.answer(
			new Response(new ReadableStream({ pull: () => new Promise(() => {}) }), {
				status: 400,
				headers: { 'content-type': 'application/json', 'dpop-nonce': 'n8' },
			}),
		);
		await vi.advanceTimersByTimeAsync(5_100);
		await turns(() => sent.length === 4);
		expect(sent.slice(1).map((request) => request.nonce)).toEqual(['n8', 'n8', 'n8']);
		for (const request of sent.slice(1)) request.answer(new Response('{}'));
		await Promise.all(waiters);
	});

	it('lets the others go at once when the learner fails before it sends (its clock throws)', async () => {
		let reads = 0;
		const { fetch, sent } = heldFetch();
		const dpopFetch = createDpopFetch({
			key,
			fetch,
			now: () => {
				if (reads++ === 0) throw new Error('clock broke');
				return Date.now();
			},
		});
		const learner = dpopFetch('https://pds.example/xrpc/a.b.c').catch((err: Error) => err.message);
		const waiter = dpopFetch('https://pds.example/xrpc/a.b.c');
		expect(await learner).toBe('clock broke');
		await settle(sent, 1);
		expect(sent.map((request) => request.nonce)).toEqual([undefined]);
		sent[0]!.answer(new Response('{}'));
		await waiter;
	});

	it('learns a nonce from a refusal to another path of the origin and sends the rest with it', async () => {
		const { fetch, sent } = heldFetch();
		const dpopFetch = createDpopFetch({ key, fetch });

		const par = dpopFetch('https://as.example/oauth/par', { method: 'POST', body: 'a' });
		const token = dpopFetch('https://as.example/oauth/token', { method: 'POST', body: 'b' });
		await settle(sent, 1);
		sent[0]!.answer(refusal('n7'));
		await settle(sent, 3);
		expect(sent.map((request) => request.nonce)).toEqual([undefined, 'n7', 'n7']);
		for (const request of sent.slice(1)) request.answer(new Response('{}'));
		await Promise.all([par, token]);
	});
});
