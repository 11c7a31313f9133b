import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Did } from '@atcute/lexicons';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createMemoryLock, type LockFunction } from './lock.ts';
import { signIn, type TestOAuthServer, type TestServerEnv, useTestServer } from './test-utils/setup.ts';

const GET_SESSION = '/xrpc/com.atproto.server.getSession';
const GET_BLOB = '/xrpc/com.atproto.sync.getBlob?did=x&cid=y';

describe('OAuthSession and 401 answers', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, createTestClient } = env));

	// another origin (a blob CDN) that refuses as a resource server refuses a token
	let cdn: Server;
	let cdnUrl: string;
	beforeAll(async () => {
		cdn = createServer((_request, response) => {
			response.writeHead(401, { 'www-authenticate': 'DPoP error="invalid_token"' }).end();
		});
		await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
		cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}/blob/abc`;
	});
	afterAll(() => new Promise<void>((resolve) => cdn.close(() => resolve())));

	it('refreshes for no 401 from another origin a redirect led to', async () => {
		// the PDS sends blobs elsewhere: the token and its proof stay behind (no origin but the PDS's)
		const redirecting: typeof fetch = async (input, init) => {
			const url = input instanceof Request ? input.url : String(input);
			if (url.includes('/xrpc/com.atproto.sync.getBlob')) {
				return new Response(null, { status: 302, headers: { location: cdnUrl } });
			}
			return fetch(input, init);
		};
		const { client, sessions } = await createTestClient(server, { fetch: redirecting });
		await signIn(server, client, alice.did);
		const session = await client.restore(alice.did);

		const response = await session.handle(GET_BLOB);
		expect(response.status).toBe(401);
		expect(response.url).toBe(cdnUrl);
		// the CDN's refusal is not the PDS's: no refresh token spent, no mark that holds back the
		// PDS's own refusals of the token
		expect(server.stats.token.refresh_token).toBe(0);
		expect(sessions.map.get(alice.did)?.tokenSet.refused_on_arrival).toBeUndefined();
		expect((await session.handle(GET_SESSION)).status).toBe(200);
	});

	it("refreshes for a refusal from the PDS reached at another address by the app's fetch", async () => {
		// a service mesh or an internal name: the answers name that address, not the PDS's URL
		const elsewhere: typeof fetch = (input, init) => {
			const url = input instanceof Request ? input.url : String(input);
			if (!url.includes('/xrpc/')) return fetch(input, init);
			const inner = new URL(url);
			inner.hostname = 'localhost';
			return input instanceof Request ? fetch(new Request(inner, input), init) : fetch(inner, init);
		};
		const { client } = await createTestClient(server, { fetch: elsewhere });
		await signIn(server, client, alice.did);
		const session = await client.restore(alice.did);
		const first = await session.handle(GET_SESSION);
		expect(first.status).toBe(200);
		expect(new URL(first.url).hostname).toBe('localhost');

		server.expireAccessTokens(alice.did);
		expect((await session.handle(GET_SESSION)).status).toBe(200);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('writes one refused-on-arrival mark for the callers refused the same new token', async () => {
		const memory = createMemoryLock();
		let acquisitions = 0;
		const requestLock: LockFunction = (name, fn) => {
			acquisitions++;
			return memory(name, fn);
		};
		const { client, sessions } = await createTestClient(server, { requestLock });
		await signIn(server, client, alice.did);
		server.behaviour.refuseEveryToken = true;
		const session = await client.restore(alice.did);
		acquisitions = 0;

		const statuses = await Promise.all(
			Array.from({ length: 50 }, () => session.handle(GET_SESSION).then((response) => response.status)),
		);
		expect(new Set(statuses)).toEqual(new Set([401]));
		expect(server.stats.token.refresh_token).toBe(1);
		expect(sessions.map.get(alice.did)?.tokenSet.refused_on_arrival).toBe(true);
		// the refresh, then the mark, and at most one for each caller refused the old token once the
		// refresh had ended (it adopts the new one under the lock, which a sign-out holds while it
		// revokes): the refusals of the marked token that follow take none (two per caller before)
		expect(acquisitions).toBeLessThanOrEqual(2 + 50);
	});

	it('holds no refused answer unread while it refreshes or waits for the lock, and hands back the last one whole', async () => {
		// every 401 from the PDS comes with a body that counts as open until read to its end or
		// cancelled: an open one holds its connection, which a transport bounding its connections to
		// the PDS could not give to the refresh's own requests there
		let open = 0;
		const bodies: string[] = [];
		const tracking: typeof fetch = async (input, init) => {
			const response = await fetch(input, init);
			if (response.status !== 401) return response;
			const text = await response.text();
			bodies.push(text);
			open++;
			let settled = false;
			const settle = () => {
				if (!settled) open--;
				settled = true;
			};
			// pulled only when read (a stream pulls its first chunk when made, by default)
			const body = new ReadableStream<Uint8Array>(
				{
					pull(controller) {
						controller.enqueue(new TextEncoder().encode(text));
						controller.close();
						settle();
					},
					cancel: settle,
				},
				{ highWaterMark: 0 },
			);
			return new Response(body, { status: 401, headers: response.headers });
		};
		const openWhen: number[] = [];
		const checking: typeof fetch = (input, init) => {
			const url = input instanceof Request ? input.url : String(input);
			if (url.endsWith('/oauth/token')) openWhen.push(open);
			return tracking(input, init);
		};
		const memory = createMemoryLock();
		const requestLock: LockFunction = (name, fn) => {
			openWhen.push(open);
			return memory(name, fn);
		};
		const { client } = await createTestClient(server, { fetch: checking, requestLock });
		await signIn(server, client, alice.did);
		server.behaviour.refuseEveryToken = true;
		const session = await client.restore(alice.did);
		openWhen.length = 0;

		const response = await session.handle(GET_SESSION);
		expect(response.status).toBe(401);
		// the refresh's lock and token request, then the mark's lock: no refused answer open at any
		expect(openWhen).toEqual([0, 0, 0]);
		expect(await response.text()).toBe(bodies.at(-1));
		expect(bodies.at(-1)).toContain('invalid_token');
	});

	it("gives up with the caller's signal while the mark waits for the lock", async () => {
		const memory = createMemoryLock();
		let held: (() => void) | undefined;
		let acquisitions = 0;
		const requestLock: LockFunction = async (name, fn) => {
			// from the second acquisition on (the mark), the lock is busy elsewhere until released
			if (++acquisitions === 2) await new Promise<void>((resolve) => (held = resolve));
			return memory(name, fn);
		};
		const { client } = await createTestClient(server, { requestLock });
		await signIn(server, client, alice.did);
		server.behaviour.refuseEveryToken = true;
		const session = await client.restore(alice.did);
		acquisitions = 0;

		const controller = new AbortController();
		const outcome = session.handle(GET_SESSION, { signal: controller.signal }).catch((err: unknown) => err);
		await expect.poll(() => held).toBeDefined();
		controller.abort(new Error('gave up'));

		expect(await outcome).toMatchObject({ message: 'gave up' });
		held?.();
	});

	it("writes no mark once its lock is lost: the session stored may be another holder's by then", async () => {
		const memory = createMemoryLock();
		let acquisitions = 0;
		const requestLock: LockFunction = async (name, fn) =>
			memory(name, (lost) => {
				// from the second acquisition on (the mark's), the hold is lost as soon as it is had
				if (++acquisitions < 2) return fn(lost);
				const lease = new AbortController();
				lease.abort(new Error('lease ran out'));
				return fn(lease.signal);
			});
		const { client, sessions } = await createTestClient(server, { requestLock });
		await signIn(server, client, alice.did);
		server.behaviour.refuseEveryToken = true;
		const session = await client.restore(alice.did);
		acquisitions = 0;

		expect((await session.handle(GET_SESSION)).status).toBe(401);
		// the refresh (first hold) stored its tokens; the mark (second) wrote nothing
		expect(acquisitions).toBe(2);
		expect(sessions.map.get(alice.did)?.tokenSet.refused_on_arrival).toBeUndefined();
	});
});
