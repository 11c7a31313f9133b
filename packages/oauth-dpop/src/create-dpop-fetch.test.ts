import { createHash } from 'node:crypto';

import type { JWTPayload } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createDpopFetch, type FetchFunction } from './create-dpop-fetch.ts';
import { type DpopKey, generateDpopKey } from './dpop-key.ts';
import { type DpopNonceCache, MemoryDpopNonceCache } from './dpop-nonce-cache.ts';
import { ServerClocks } from './server-clocks.ts';
import {
	type DpopTestServer,
	type RecordedRequest,
	startDpopTestServer,
} from './test-utils/dpop-test-server.ts';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

/** the verified proof of every recorded request; fails if the server refused any proof. */
const proofsOf = (requests: readonly RecordedRequest[]): JWTPayload[] => {
	return requests.map((request) => {
		expect(request.proofError, `${request.method} ${request.path}`).toBeUndefined();
		expect(request.proof).toBeDefined();
		return request.proof!;
	});
};

const streamOf = (text: string): ReadableStream<Uint8Array> => {
	return new ReadableStream<Uint8Array>({
		start(controller) {
			controller.enqueue(new TextEncoder().encode(text));
			controller.close();
		},
	});
};

/** a use_dpop_nonce refusal from an authorization server, as a canned response. */
const nonceRefusal = (nonce: string | undefined): Response => {
	const headers = new Headers({ 'content-type': 'application/json' });
	if (nonce !== undefined) headers.set('dpop-nonce', nonce);
	return new Response('{"error":"use_dpop_nonce"}', { status: 400, headers });
};

describe('createDpopFetch', () => {
	let key: DpopKey;
	let server: DpopTestServer;
	let other: DpopTestServer;

	beforeAll(async () => {
		key = await generateDpopKey();
		server = await startDpopTestServer();
		other = await startDpopTestServer();
	});

	afterAll(async () => {
		await server?.close();
		await other?.close();
	});

	beforeEach(() => {
		server.clearRequests();
		other.clearRequests();
		server.rotateOnSuccess = false;
		server.clock = Date.now;
		server.sendDate = true;
	});

	describe('against an authorization server', () => {
		it('retries a request refused for a nonce exactly once, with the same body and a new jti', async () => {
			const dpopFetch = createDpopFetch({ key });
			const body = new URLSearchParams({
				grant_type: 'authorization_code',
				code: 'abc',
				redirect_uri: 'http://127.0.0.1/callback',
			});

			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body });

			expect(response.status).toBe(200);
			expect(response.headers.get('dpop-nonce')).toBe(server.nonce);
			expect(await response.json()).toMatchObject({ ok: true, body: body.toString() });

			expect(server.requests).toHaveLength(2);
			const [first, retry] = server.requests as [RecordedRequest, RecordedRequest];
			const [firstProof, retryProof] = proofsOf(server.requests) as [JWTPayload, JWTPayload];
			expect(first.status).toBe(400);
			expect(retry.status).toBe(200);

			expect('nonce' in firstProof).toBe(false);
			expect(retryProof.nonce).toBe(server.nonce);
			expect(retryProof.jti).not.toBe(firstProof.jti);

			for (const request of [first, retry]) {
				expect(request.method).toBe('POST');
				expect(request.body).toBe(body.toString());
				expect(request.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
				expect(request.proof?.htm).toBe('POST');
				expect(request.proof?.htu).toBe(`${server.origin}/oauth/token`);
				expect('ath' in request.proof!).toBe(false);
			}
		});

		it('sends the learnt nonce with the next request, which passes first time', async () => {
			const dpopFetch = createDpopFetch({ key });
			await dpopFetch(`${server.origin}/oauth/par`, { method: 'POST', body: 'a=1' });
			server.clearRequests();

			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'b=2' });

			expect(response.status).toBe(200);
			expect(server.requests).toHaveLength(1);
			const [proof] = proofsOf(server.requests);
			expect(proof?.nonce).toBe(server.nonce);
			expect(server.requests[0]?.body).toBe('b=2');
		});

		it('retries exactly once after the server rotates its nonce', async () => {
			const dpopFetch = createDpopFetch({ key });
			await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });
			const stale = server.nonce;
			const fresh = server.rotateNonce();
			server.clearRequests();

			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

			expect(response.status).toBe(200);
			expect(server.requests.map((request) => request.status)).toEqual([400, 200]);
			const [first, retry] = proofsOf(server.requests);
			expect(first?.nonce).toBe(stale);
			expect(retry?.nonce).toBe(fresh);
		});

		it('with retry off, returns the refusal but learns the nonce for the caller to retry', async () => {
			const nonces = new MemoryDpopNonceCache();
			const dpopFetch = createDpopFetch({ key, nonces, retry: false });
			server.rotateNonce();

			const refused = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });
			expect(refused.status).toBe(400);
			expect(server.requests).toHaveLength(1);
			expect(nonces.get(server.origin)).toBe(server.nonce);

			const retried = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=2' });
			expect(retried.status).toBe(200);
			expect(server.requests.map((request) => request.body)).toEqual(['a=1', 'a=2']);
		});

		it('learns a nonce announced on a successful response', async () => {
			const dpopFetch = createDpopFetch({ key });
			server.rotateOnSuccess = true;
			await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });
			const announced = server.nonce;
			server.rotateOnSuccess = false;
			server.clearRequests();

			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

			expect(response.status).toBe(200);
			expect(server.requests).toHaveLength(1);
			expect(proofsOf(server.requests)[0]?.nonce).toBe(announced);
		});

		it('returns the second refusal when the server refuses the retry too', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(`${server.origin}/always/oauth/token`, {
				method: 'POST',
				body: 'a=1',
			});

			expect(server.requests).toHaveLength(2);
			proofsOf(server.requests);
			expect(response.status).toBe(400);
			expect(await response.json()).toEqual({
				error: 'use_dpop_nonce',
				error_description: 'Authorization server requires nonce in DPoP proof',
			});
		});

		it('does not re-send a stream body, but learns the nonce for the next request', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(`${server.origin}/oauth/par`, {
				method: 'POST',
				body: streamOf('a=1'),
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
				duplex: 'half',
			} as RequestInit);

			expect(response.status).toBe(400);
			expect(await response.json()).toMatchObject({ error: 'use_dpop_nonce' });
			expect(server.requests).toHaveLength(1);
			expect(server.requests[0]?.body).toBe('a=1');
			proofsOf(server.requests);
			server.clearRequests();

			const next = await dpopFetch(`${server.origin}/oauth/par`, { method: 'POST', body: 'a=1' });
			expect(next.status).toBe(200);
			expect(server.requests).toHaveLength(1);
			expect(proofsOf(server.requests)[0]?.nonce).toBe(server.nonce);
		});

		it.each([
			['a Uint8Array', () => new TextEncoder().encode('a=1&b=2')],
			['an ArrayBuffer', () => new TextEncoder().encode('a=1&b=2').buffer],
			['a Blob', () => new Blob(['a=1&b=2'])],
			['a string', () => 'a=1&b=2'],
		])('re-sends %s body on the retry', async (_name, makeBody) => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: makeBody() });

			expect(response.status).toBe(200);
			expect(server.requests.map((request) => request.body)).toEqual(['a=1&b=2', 'a=1&b=2']);
			proofsOf(server.requests);
		});

		it('returns an oversized error body without hanging or retrying', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(`${server.origin}/big/oauth/token`, { method: 'POST', body: 'a=1' });

			expect(response.status).toBe(400);
			expect(server.requests).toHaveLength(1);
			const body = (await response.json()) as { error: string; padding: string };
			expect(body.error).toBe('use_dpop_nonce');
			expect(body.padding).toHaveLength(20 * 1024);
		});

		it('sends htm in upper case when the method is given in lower case', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'post', body: 'a=1' });

			expect(response.status).toBe(200);
			for (const request of server.requests) {
				expect(request.method).toBe('POST');
				expect(request.proof?.htm).toBe('POST');
			}
			expect(server.requests).toHaveLength(2);
		});

		it('sends a method fetch does not normalise with matching htm', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(`${server.origin}/oauth/revoke`, { method: 'patch', body: 'a=1' });

			expect(response.status).toBe(200);
			expect(server.requests.map((request) => request.method)).toEqual(['PATCH', 'PATCH']);
			expect(proofsOf(server.requests).map((proof) => proof.htm)).toEqual(['PATCH', 'PATCH']);
		});
	});

	describe('against a resource server', () => {
		it('binds the proof to a DPoP access token with ath and retries once on a 401', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(`${server.origin}/xrpc/com.example.getThing`, {
				headers: { authorization: 'DPoP tok' },
			});

			expect(response.status).toBe(200);
			expect(server.requests.map((request) => request.status)).toEqual([401, 200]);
			const [first, retry] = proofsOf(server.requests);
			expect(first?.ath).toBe(sha256('tok'));
			expect(retry?.ath).toBe(sha256('tok'));
			expect('nonce' in first!).toBe(false);
			expect(retry?.nonce).toBe(server.nonce);
			expect(retry?.htm).toBe('GET');
			expect(retry?.htu).toBe(`${server.origin}/xrpc/com.example.getThing`);
			for (const request of server.requests) {
				expect(request.method).toBe('GET');
				expect(request.headers.authorization).toBe('DPoP tok');
			}
		});

		it('returns the 401 when the server refuses the retry too', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(`${server.origin}/always/xrpc/com.example.getThing`, {
				headers: { authorization: 'DPoP tok' },
			});

			expect(server.requests).toHaveLength(2);
			proofsOf(server.requests);
			expect(response.status).toBe(401);
			expect(response.headers.get('www-authenticate')).toMatch(/^DPoP error="use_dpop_nonce"/);
		});

		it('hashes each new access token rather than reusing an old ath', async () => {
			const dpopFetch = createDpopFetch({ key });

			for (const token of ['tokA', 'tokB', 'tokA']) {
				server.clearRequests();
				const response = await dpopFetch(`${server.origin}/xrpc/com.example.getThing`, {
					headers: { authorization: `DPoP ${token}` },
				});
				expect(response.status).toBe(200);
				for (const proof of proofsOf(server.requests)) {
					expect(proof.ath).toBe(sha256(token));
				}
			}
		});

		it('reads the DPoP scheme of the Authorization header case-insensitively', async () => {
			const dpopFetch = createDpopFetch({ key });

			await dpopFetch(`${server.origin}/xrpc/com.example.getThing`, {
				headers: { authorization: 'dpop tok' },
			});

			expect(proofsOf(server.requests).map((proof) => proof.ath)).toEqual([sha256('tok'), sha256('tok')]);
		});

		it('leaves ath out for a Bearer token', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(`${server.origin}/xrpc/com.example.getThing`, {
				headers: { authorization: 'Bearer tok' },
			});

			expect(response.status).toBe(200);
			for (const proof of proofsOf(server.requests)) {
				expect('ath' in proof).toBe(false);
			}
		});

		it('drops the query from htu while still sending it to the server', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(
				`${server.origin}/xrpc/com.example.list?limit=10&cursor=a%20b#fragment`,
				{ headers: { authorization: 'DPoP tok' } },
			);

			expect(response.status).toBe(200);
			expect(server.requests).toHaveLength(2);
			for (const request of server.requests) {
				expect(request.path).toBe('/xrpc/com.example.list');
				expect(request.query).toBe('?limit=10&cursor=a%20b');
			}
			for (const proof of proofsOf(server.requests)) {
				expect(proof.htu).toBe(`${server.origin}/xrpc/com.example.list`);
			}
		});

		it('builds htu from the URL as fetch normalises it', async () => {
			const dpopFetch = createDpopFetch({ key });
			const port = new URL(server.origin).port;

			const response = await dpopFetch(`HTTP://127.0.0.1:${port}/xrpc/a/../com.example.list?x=1`);

			expect(response.status).toBe(200);
			expect(server.requests.map((request) => request.path)).toEqual([
				'/xrpc/com.example.list',
				'/xrpc/com.example.list',
			]);
			expect(proofsOf(server.requests).map((proof) => proof.htu)).toEqual([
				`${server.origin}/xrpc/com.example.list`,
				`${server.origin}/xrpc/com.example.list`,
			]);
		});

		it('accepts a URL object as input', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(new URL('/xrpc/com.example.list?limit=1', server.origin));

			expect(response.status).toBe(200);
			expect(server.requests.map((request) => request.query)).toEqual(['?limit=1', '?limit=1']);
			expect(proofsOf(server.requests).map((proof) => proof.htu)).toEqual([
				`${server.origin}/xrpc/com.example.list`,
				`${server.origin}/xrpc/com.example.list`,
			]);
		});
	});

	describe('headers', () => {
		it('replaces a DPoP header the caller gave in any case with the one proof, and keeps the rest', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(`${server.origin}/xrpc/com.example.getThing`, {
				headers: { DPoP: 'stale', 'X-Twice': 'a', 'x-twice': 'b', Authorization: 'DPoP tok' },
			});

			expect(response.status).toBe(200);
			for (const request of server.requests) {
				expect(request.headers.dpop).not.toBe('stale');
				expect(request.headers['x-twice']).toBe('a, b');
			}
			expect(proofsOf(server.requests).map((proof) => proof.ath)).toEqual([sha256('tok'), sha256('tok')]);
		});

		it('reads headers given as pairs, as a Map and as Headers alike', async () => {
			const dpopFetch = createDpopFetch({ key });
			const given: HeadersInit[] = [
				[
					['authorization', 'DPoP tok'],
					['x-extra', '1'],
				],
				new Map([
					['authorization', 'DPoP tok'],
					['x-extra', '1'],
				]) as unknown as HeadersInit,
				new Headers({ authorization: 'DPoP tok', 'x-extra': '1' }),
			];

			for (const headers of given) {
				server.clearRequests();
				const response = await dpopFetch(`${server.origin}/xrpc/com.example.getThing`, { headers });

				expect(response.status).toBe(200);
				expect(server.requests.length).toBeGreaterThan(0);
				for (const request of server.requests) expect(request.headers['x-extra']).toBe('1');
				for (const proof of proofsOf(server.requests)) expect(proof.ath).toBe(sha256('tok'));
			}
		});

		it('sends headers named like Object properties as they are', async () => {
			const dpopFetch = createDpopFetch({ key });

			await dpopFetch(`${server.origin}/xrpc/com.example.getThing`, {
				headers: { constructor: 'y', toString: 'z' },
			});

			for (const request of server.requests) {
				expect(request.headers.constructor).toBe('y');
				expect(request.headers.tostring).toBe('z');
			}
			proofsOf(server.requests);
		});

		it('finds a DPoP token in an Authorization value with surrounding spaces', async () => {
			const dpopFetch = createDpopFetch({ key });

			await dpopFetch(`${server.origin}/xrpc/com.example.getThing`, {
				headers: [['authorization', '  DPoP tok  ']],
			});

			expect(proofsOf(server.requests).map((proof) => proof.ath)).toEqual([sha256('tok'), sha256('tok')]);
		});

		it('gives concurrent requests with different tokens each their own ath', async () => {
			const dpopFetch = createDpopFetch({ key });
			const nonces = new MemoryDpopNonceCache();
			nonces.set(server.origin, server.nonce);
			const warm = createDpopFetch({ key, nonces });

			await Promise.all(
				['tokA', 'tokB', 'tokC', 'tokA'].flatMap((token) => [
					dpopFetch(`${server.origin}/xrpc/com.example.getThing?t=${token}`, {
						headers: { authorization: `DPoP ${token}` },
					}),
					warm(`${server.origin}/xrpc/com.example.getThing?t=${token}`, {
						headers: { authorization: `DPoP ${token}` },
					}),
				]),
			);

			expect(server.requests.length).toBeGreaterThanOrEqual(8);
			for (const [i, proof] of proofsOf(server.requests).entries()) {
				expect(proof.ath).toBe(sha256(server.requests[i]!.query.slice('?t='.length)));
			}
		});
	});

	describe('the sha256 option', () => {
		const url = () => `${server.origin}/xrpc/com.example.getThing`;
		const withToken = (token: string) => ({ headers: { authorization: `DPoP ${token}` } });

		it('hashes each token once with a synchronous sha256, whose ath the server verifies', async () => {
			const hashed: string[] = [];
			const dpopFetch = createDpopFetch({
				key,
				sha256: (text) => {
					hashed.push(text);
					return sha256(text);
				},
			});

			for (const token of ['tokA', 'tokA', 'tokB', 'tokB']) {
				expect((await dpopFetch(url(), withToken(token))).status).toBe(200);
			}

			expect(hashed).toEqual(['tokA', 'tokB']);
			const proofs = proofsOf(server.requests);
			expect(proofs.map((proof) => proof.ath)).toEqual(
				server.requests.map((request) => sha256(request.headers.authorization!.slice(5))),
			);
		});

		const failingFirst = {
			throws: (text: string, calls: number) => {
				if (calls === 1) throw new Error('hash failed');
				return sha256(text);
			},
			rejects: async (text: string, calls: number) => {
				if (calls === 1) throw new Error('hash failed');
				return sha256(text);
			},
		};
		for (const [how, hash] of Object.entries(failingFirst)) {
			it(`sends nothing when the hash ${how}, and hashes again on the next request`, async () => {
				let calls = 0;
				const dpopFetch = createDpopFetch({ key, sha256: (text) => hash(text, ++calls) });

				await expect(dpopFetch(url(), withToken('tok'))).rejects.toThrow('hash failed');
				expect(server.requests).toHaveLength(0);

				expect((await dpopFetch(url(), withToken('tok'))).status).toBe(200);
				expect(calls).toBe(2);
				for (const proof of proofsOf(server.requests)) expect(proof.ath).toBe(sha256('tok'));
			});
		}

		it("never keeps a hash that lands late, after another token's, as the ath of the newer token", async () => {
			// an async sha256 may finish out of order: tokA's hash landing after tokB's went out must
			// not become the ath sent with tokB, which the resource server would refuse
			const pending = new Map<string, () => void>();
			const dpopFetch = createDpopFetch({
				key,
				sha256: (text) => new Promise<string>((resolve) => pending.set(text, () => resolve(sha256(text)))),
			});

			const first = dpopFetch(url(), withToken('tokA'));
			const second = dpopFetch(url(), withToken('tokB'));
			pending.get('tokB')!();
			expect((await second).status).toBe(200);
			pending.get('tokA')!();
			expect((await first).status).toBe(200);
			expect((await dpopFetch(url(), withToken('tokB'))).status).toBe(200);

			const proofs = proofsOf(server.requests);
			expect(proofs.map((proof) => proof.ath)).toEqual(
				server.requests.map((request) => sha256(request.headers.authorization!.slice(5))),
			);
		});
	});

	describe('nonce cache answers', () => {
		it('treats a cache that answers null as one that knows no nonce', async () => {
			const nonces = { get: () => null, set: () => {} } as unknown as DpopNonceCache;
			const dpopFetch = createDpopFetch({ key, nonces });

			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

			expect(response.status).toBe(200);
			const [first] = proofsOf(server.requests);
			expect(first && 'nonce' in first).toBe(false);
		});
	});

	describe('with a Request as input', () => {
		it('retries a Request without a body', async () => {
			const dpopFetch = createDpopFetch({ key });
			const request = new Request(`${server.origin}/xrpc/com.example.getThing`, {
				headers: { authorization: 'DPoP tok', 'x-custom': 'kept' },
			});

			const response = await dpopFetch(request);

			expect(response.status).toBe(200);
			expect(server.requests).toHaveLength(2);
			for (const recorded of server.requests) {
				expect(recorded.headers['x-custom']).toBe('kept');
			}
			for (const proof of proofsOf(server.requests)) {
				expect(proof.ath).toBe(sha256('tok'));
				expect(proof.htm).toBe('GET');
			}
		});

		it('applies init over the Request', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(new Request(`${server.origin}/xrpc/com.example.getThing`), {
				headers: { authorization: 'DPoP tok' },
			});

			expect(response.status).toBe(200);
			expect(proofsOf(server.requests).map((proof) => proof.ath)).toEqual([sha256('tok'), sha256('tok')]);
		});

		it('does not retry a Request with a body, but learns the nonce', async () => {
			const dpopFetch = createDpopFetch({ key });
			const request = new Request(`${server.origin}/oauth/par`, { method: 'POST', body: 'a=1' });

			const response = await dpopFetch(request);

			expect(response.status).toBe(400);
			expect(await response.json()).toMatchObject({ error: 'use_dpop_nonce' });
			expect(server.requests).toHaveLength(1);
			expect(server.requests[0]?.body).toBe('a=1');
			proofsOf(server.requests);
			server.clearRequests();

			const next = await dpopFetch(
				new Request(`${server.origin}/oauth/par`, { method: 'POST', body: 'a=1' }),
			);
			expect(next.status).toBe(200);
			expect(server.requests).toHaveLength(1);
		});

		for (const [what, path, status] of [
			['an authorization server', '/oauth/par', 400],
			['a resource server', '/xrpc/com.example.putThing', 401],
		] as const) {
			it.each([
				['a string', () => 'a=1'],
				['a stream', () => streamOf('a=1')],
			])(
				`hands back the refusal of ${what} to a Request with %s body, sent once`,
				async (_name, makeBody) => {
					const dpopFetch = createDpopFetch({ key });
					const url = `${server.origin}${path}`;
					const request = new Request(url, {
						method: 'POST',
						body: makeBody(),
						duplex: 'half',
					} as RequestInit);

					// the server's answer, not an error about a body already used
					const response = await dpopFetch(request);

					expect(response.status).toBe(status);
					expect(await response.json()).toMatchObject({ error: 'use_dpop_nonce' });
					expect(server.requests.map((recorded) => recorded.body)).toEqual(['a=1']);
					server.clearRequests();

					// the nonce was learnt: the caller's next attempt passes first time
					const next = await dpopFetch(
						new Request(url, { method: 'POST', body: makeBody(), duplex: 'half' } as RequestInit),
					);
					expect(next.status).toBe(200);
					expect(proofsOf(server.requests).map((proof) => proof.nonce)).toEqual([server.nonce]);
				},
			);
		}
	});

	describe('nonce cache', () => {
		it('keeps a separate nonce per origin', async () => {
			const nonces = new MemoryDpopNonceCache();
			const dpopFetch = createDpopFetch({ key, nonces });
			const post = (target: DpopTestServer) => {
				return dpopFetch(`${target.origin}/oauth/token`, { method: 'POST', body: 'a=1' });
			};

			expect((await post(server)).status).toBe(200);
			expect((await post(other)).status).toBe(200);
			expect(server.requests).toHaveLength(2);
			expect(other.requests).toHaveLength(2);
			expect(server.nonce).not.toBe(other.nonce);
			expect(nonces.get(server.origin)).toBe(server.nonce);
			expect(nonces.get(other.origin)).toBe(other.nonce);

			server.clearRequests();
			other.clearRequests();
			expect((await post(server)).status).toBe(200);
			expect((await post(other)).status).toBe(200);
			expect(server.requests).toHaveLength(1);
			expect(other.requests).toHaveLength(1);
			expect(proofsOf(server.requests)[0]?.nonce).toBe(server.nonce);
			expect(proofsOf(other.requests)[0]?.nonce).toBe(other.nonce);
		});

		it('shares one nonce between the paths of an origin', async () => {
			const dpopFetch = createDpopFetch({ key });
			await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });
			server.clearRequests();

			const response = await dpopFetch(`${server.origin}/xrpc/com.example.getThing`);

			expect(response.status).toBe(200);
			expect(server.requests).toHaveLength(1);
		});

		it('starts from a nonce already in the given cache', async () => {
			const nonces = new MemoryDpopNonceCache();
			nonces.set(server.origin, server.nonce);
			const dpopFetch = createDpopFetch({ key, nonces });

			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

			expect(response.status).toBe(200);
			expect(server.requests).toHaveLength(1);
		});

		it('works with an async cache', async () => {
			const store = new Map<string, string>();
			const nonces: DpopNonceCache = {
				get: async (origin) => store.get(origin),
				set: async (origin, nonce) => {
					store.set(origin, nonce);
				},
			};
			const dpopFetch = createDpopFetch({ key, nonces });

			await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });
			expect(store.get(server.origin)).toBe(server.nonce);
			server.clearRequests();
			await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });
			expect(server.requests).toHaveLength(1);
		});

		it.each([
			[
				'throws',
				{
					get: () => {
						throw new Error('cache down');
					},
					set: () => {
						throw new Error('cache down');
					},
				},
			],
			[
				'rejects',
				{
					get: () => Promise.reject(new Error('cache down')),
					set: () => Promise.reject(new Error('cache down')),
				},
			],
		] as [string, DpopNonceCache][])(
			'still succeeds via the retry when the cache %s',
			async (_name, nonces) => {
				const dpopFetch = createDpopFetch({ key, nonces });

				const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

				expect(response.status).toBe(200);
				expect(server.requests.map((request) => request.status)).toEqual([400, 200]);
				expect(proofsOf(server.requests)[1]?.nonce).toBe(server.nonce);
			},
		);
		it('goes without waiting past a second for an async cache that never answers a read, then with the nonce it learnt', async () => {
			const nonces: DpopNonceCache = { get: () => new Promise(() => {}), set: async () => {} };
			const dpopFetch = createDpopFetch({ key, nonces });
			const token = () => dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

			// no nonce known: the server asks for one, and the retry has it from the refusal
			expect((await token()).status).toBe(200);
			// the cache still says nothing: the request goes with the nonce the fetch learnt
			expect((await token()).status).toBe(200);
			expect(server.requests.map((request) => request.status)).toEqual([400, 200, 200]);
			expect(proofsOf(server.requests)[2]?.nonce).toBe(server.nonce);
		}, 10_000);

		it("gives up with the caller's signal while an async cache never answers a read", async () => {
			const stalled: DpopNonceCache = { get: () => new Promise(() => {}), set: () => {} };
			const dpopFetch = createDpopFetch({ key, nonces: stalled });

			const outcome = await dpopFetch(`${server.origin}/oauth/token`, {
				method: 'POST',
				body: 'a=1',
				signal: AbortSignal.timeout(100),
			}).catch((err: unknown) => err);

			expect(outcome).toMatchObject({ name: 'TimeoutError' });
			expect(server.requests).toHaveLength(0);
		});

		it('returns the answer without waiting for an async cache that never finishes a write, or fails one', async () => {
			// a token answer lost to a slow cache write would be a refresh token spent for nothing
			for (const set of [() => new Promise<void>(() => {}), () => Promise.reject(new Error('cache down'))]) {
				const dpopFetch = createDpopFetch({ key, nonces: { get: () => undefined, set } });
				server.clearRequests();

				// no signal at all: nothing else would end the wait
				const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

				expect(response.status).toBe(200);
				// the refusal's nonce went to the retry straight from its header
				expect(server.requests.map((request) => request.status)).toEqual([400, 200]);
				expect(proofsOf(server.requests)[1]?.nonce).toBe(server.nonce);
			}
		});
	});

	/** a server that answers every request with a new nonce (n1, n2, …), and the nonces it was sent. */
	const nonceIssuingFetch = () => {
		let issued = 0;
		const sent: unknown[] = [];
		const stub: FetchFunction = async (input, init) => {
			const proof = new Headers(init?.headers ?? (input as Request).headers).get('dpop')!;
			sent.push((JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()) as JWTPayload).nonce);
			return new Response('{}', { headers: { 'dpop-nonce': `n${++issued}` } });
		};
		return { stub, sent };
	};

	describe('an async cache whose write has not landed', () => {
		it('gives the nonce to the next request from the fetch itself, then reads the cache again once it lands', async () => {
			const cache = new Map<string, string>();
			let land = (): void => {};
			const nonces: DpopNonceCache = {
				get: async (origin) => cache.get(origin),
				set: (origin, nonce) =>
					new Promise<void>((resolve) => {
						land = () => {
							cache.set(origin, nonce);
							resolve();
						};
					}),
			};
			// retry: false, as a caller whose body must change (a client assertion) sends the retry itself
			const dpopFetch = createDpopFetch({ key, nonces, retry: false });
			const token = () => dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

			expect((await token()).status).toBe(400);
			// the write is still out: the second request has the refused one's nonce all the same
			expect((await token()).status).toBe(200);
			expect(proofsOf(server.requests)[1]?.nonce).toBe(server.nonce);

			land();
			await new Promise((resolve) => setTimeout(resolve, 0));
			// landed: the cache speaks again (here, for another process that learnt a newer nonce)
			cache.set(server.origin, 'from-another-process');
			await token();
			expect(proofsOf(server.requests)[2]?.nonce).toBe('from-another-process');
		});
		it('reads a synchronous cache again once a write to it works after one that threw', async () => {
			const cache = new Map<string, string>();
			let down = true;
			const nonces: DpopNonceCache = {
				get: (origin) => cache.get(origin),
				set: (origin, nonce) => {
					if (down) throw new Error('cache down');
					cache.set(origin, nonce);
				},
			};
			const { stub, sent } = nonceIssuingFetch();
			const dpopFetch = createDpopFetch({ key, nonces, fetch: stub });
			const url = 'https://pds.example.com/xrpc/com.example.get';

			await dpopFetch(url);
			down = false;
			await dpopFetch(url);
			// the cache holds the newest again: what another process puts there is read
			cache.set('https://pds.example.com', 'from-another-process');
			await dpopFetch(url);
			expect(sent).toEqual([undefined, 'n1', 'from-another-process']);
		});

		it('keeps the newest nonce when an older write lands after a newer one went out', async () => {
			const cache = new Map<string, string>();
			const landings: (() => void)[] = [];
			const nonces: DpopNonceCache = {
				get: async (origin) => cache.get(origin),
				set: (origin, nonce) =>
					new Promise<void>((resolve) => {
						landings.push(() => {
							cache.set(origin, nonce);
							resolve();
						});
					}),
			};
			const { stub, sent } = nonceIssuingFetch();
			const dpopFetch = createDpopFetch({ key, nonces, fetch: stub });
			const url = 'https://pds.example.com/xrpc/com.example.get';

			await dpopFetch(url);
			await dpopFetch(url);
			// the first write (n1) lands after the second (n2) went out: n2 is still the one to send
			landings[0]!();
			await new Promise((resolve) => setTimeout(resolve, 0));
			await dpopFetch(url);
			expect(sent).toEqual([undefined, 'n1', 'n2']);
		});

		it('keeps the nonces of 1000 origins at most while the cache is down, forgetting the oldest first', async () => {
			// a fetch that reaches many origins (every PDS an app's users are on) must not grow without
			// bound while a cache it cannot write to is down
			const nonces: DpopNonceCache = {
				get: () => undefined,
				set: () => {
					throw new Error('cache down');
				},
			};
			const { stub, sent } = nonceIssuingFetch();
			const dpopFetch = createDpopFetch({ key, nonces, fetch: stub });

			for (let i = 0; i <= 1000; i++) await dpopFetch(`https://pds${i}.example.com/`);
			await dpopFetch('https://pds0.example.com/');
			await dpopFetch('https://pds1000.example.com/');
			// the first origin's nonce (n1) was let go; the last one's (n1001) is still sent
			expect(sent.slice(-2)).toEqual([undefined, 'n1001']);
		});

		const down = () => Promise.reject(new Error('cache down'));
		const answersNone = async () => undefined;
		it.each([
			['set rejects, get rejects', down, down],
			[
				'set throws, get rejects',
				() => {
					throw new Error('cache down');
				},
				down,
			],
			// reads answer "none" at once: the nonce can only come from the fetch itself
			['set rejects, get answers none', down, answersNone],
		] as const)(
			'sends the nonce it learnt while the cache is down (%s), retrying nothing',
			async (_name, set, get) => {
				const nonces: DpopNonceCache = { get, set };
				const dpopFetch = createDpopFetch({ key, nonces, retry: false });
				const token = () => dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

				expect((await token()).status).toBe(400);
				await new Promise((resolve) => setTimeout(resolve, 0));
				// a caller's own retry, after the failed write: the refused answer's nonce, not none
				expect((await token()).status).toBe(200);
				expect(await token()).toMatchObject({ status: 200 });
			},
		);
	});

	describe('retry rules', () => {
		it('does not retry when the refusal repeats the nonce that was sent', async () => {
			const calls: (string | undefined)[] = [];
			const stub: FetchFunction = async (input, init) => {
				const proof = new Headers(init?.headers ?? (input as Request).headers).get('dpop')!;
				const claims = JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()) as JWTPayload;
				calls.push(claims.nonce as string | undefined);
				return nonceRefusal('n1');
			};
			const dpopFetch = createDpopFetch({ key, fetch: stub });

			expect((await dpopFetch('https://as.example/oauth/token', { method: 'POST', body: 'a' })).status).toBe(
				400,
			);
			expect(calls).toEqual([undefined, 'n1']);

			calls.length = 0;
			expect((await dpopFetch('https://as.example/oauth/token', { method: 'POST', body: 'a' })).status).toBe(
				400,
			);
			expect(calls).toEqual(['n1']);
		});

		it("stamps the retry after a nonce refusal with the time it is sent, not the first attempt's", async () => {
			let clock = 1_700_000_000_000;
			const stamps: number[] = [];
			const stub: FetchFunction = async (input, init) => {
				const proof = new Headers(init?.headers ?? (input as Request).headers).get('dpop')!;
				const claims = JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()) as JWTPayload;
				stamps.push(claims.iat!);
				// the server takes 8 s to refuse the first attempt
				clock += 8_000;
				return stamps.length === 1 ? nonceRefusal('n1') : new Response('{}', { status: 200 });
			};
			const dpopFetch = createDpopFetch({ key, fetch: stub, now: () => clock });

			await dpopFetch('https://as.example/oauth/token', { method: 'POST', body: 'a' });

			expect(stamps).toEqual([1_700_000_000, 1_700_000_008]);
		});

		it('does not retry a use_dpop_nonce refusal that carries no nonce', async () => {
			let calls = 0;
			const stub: FetchFunction = async () => {
				calls++;
				return nonceRefusal(undefined);
			};
			const dpopFetch = createDpopFetch({ key, fetch: stub });

			const response = await dpopFetch('https://as.example/oauth/token', { method: 'POST', body: 'a' });

			expect(response.status).toBe(400);
			expect(calls).toBe(1);
		});

		describe('an empty DPoP-Nonce header', () => {
			// a server that sends `DPoP-Nonce:` with nothing (or only spaces) after it
			const cases: [string, number, (nonce: string) => Response][] = [
				['a 400 use_dpop_nonce', 400, (nonce) => nonceRefusal(nonce)],
				[
					'a 401 use_dpop_nonce',
					401,
					(nonce) =>
						new Response(null, {
							status: 401,
							headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': nonce },
						}),
				],
				['a 200', 200, (nonce) => new Response('ok', { status: 200, headers: { 'dpop-nonce': nonce } })],
			];
			for (const [what, status, answer] of cases) {
				it(`on ${what} is ignored: no retry, and the previous nonce is kept`, async () => {
					const sent: unknown[] = [];
					const answers = [answer('  '), new Response('ok')];
					const stub: FetchFunction = async (_input, init) => {
						const proof = new Headers(init?.headers).get('dpop')!;
						const claims = JSON.parse(
							Buffer.from(proof.split('.')[1]!, 'base64url').toString(),
						) as JWTPayload;
						sent.push('nonce' in claims ? claims.nonce : 'none');
						return answers.shift()!;
					};
					const nonces = new MemoryDpopNonceCache();
					nonces.set('https://as.example', 'n1');
					const dpopFetch = createDpopFetch({ key, nonces, fetch: stub });

					const first = await dpopFetch('https://as.example/oauth/token', { method: 'POST', body: 'a' });
					// the refusal is the caller's: a retry with nonce "" could only be refused again
					expect(first.status).toBe(status);
					expect(nonces.get('https://as.example')).toBe('n1');
					await dpopFetch('https://as.example/oauth/token', { method: 'POST', body: 'a' });
					expect(sent).toEqual(['n1', 'n1']);
				});
			}

			it('kept in a cache by an earlier release is sent as no nonce', async () => {
				const sent: unknown[] = [];
				const stub: FetchFunction = async (_input, init) => {
					const proof = new Headers(init?.headers).get('dpop')!;
					const claims = JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()) as JWTPayload;
					sent.push('nonce' in claims ? claims.nonce : 'none');
					return new Response('ok');
				};
				const nonces = new MemoryDpopNonceCache();
				nonces.set('https://as.example', '');
				const asyncNonces: DpopNonceCache = { get: async () => '', set: async () => {} };

				await createDpopFetch({ key, nonces, fetch: stub })('https://as.example/x');
				await createDpopFetch({ key, nonces: asyncNonces, fetch: stub })('https://as.example/x');
				expect(sent).toEqual(['none', 'none']);
			});
		});

		it('learns a nonce from another error without retrying it', async () => {
			const sent: (string | undefined)[] = [];
			const stub: FetchFunction = async (_input, init) => {
				const proof = new Headers(init?.headers).get('dpop')!;
				const claims = JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()) as JWTPayload;
				sent.push(claims.nonce as string | undefined);
				return new Response('{"error":"invalid_grant"}', {
					status: 400,
					headers: { 'content-type': 'application/json', 'dpop-nonce': 'n2' },
				});
			};
			const dpopFetch = createDpopFetch({ key, fetch: stub });

			await dpopFetch('https://as.example/oauth/token', { method: 'POST', body: 'a' });
			await dpopFetch('https://as.example/oauth/token', { method: 'POST', body: 'a' });

			expect(sent).toEqual([undefined, 'n2']);
		});

		it('cancels the body of a refused response before retrying', async () => {
			let cancelled = 0;
			const responses = [
				new Response(
					new ReadableStream<Uint8Array>({
						pull: () => new Promise<void>(() => {}),
						cancel: () => {
							cancelled++;
						},
					}),
					{
						status: 401,
						headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'n1' },
					},
				),
				new Response('ok', { status: 200 }),
			];
			const stub: FetchFunction = async () => responses.shift()!;
			const dpopFetch = createDpopFetch({ key, fetch: stub });

			const response = await dpopFetch('https://pds.example/xrpc/com.example.getThing');

			expect(await response.text()).toBe('ok');
			expect(responses).toHaveLength(0);
			expect(cancelled).toBe(1);
		});

		it('sends every request through the given fetch', async () => {
			let calls = 0;
			const counting: FetchFunction = (input, init) => {
				calls++;
				return fetch(input, init);
			};
			const dpopFetch = createDpopFetch({ key, fetch: counting });

			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

			expect(response.status).toBe(200);
			expect(calls).toBe(2);
			expect(server.requests).toHaveLength(2);
		});

		it('does not add the proof to the caller’s headers', async () => {
			const dpopFetch = createDpopFetch({ key });
			const headers = new Headers({ 'x-custom': 'kept' });
			const init: RequestInit = { method: 'POST', body: 'a=1', headers };

			await dpopFetch(`${server.origin}/oauth/token`, init);

			const left: [string, string][] = [];
			headers.forEach((value, name) => {
				left.push([name, value]);
			});
			expect(left).toEqual([['x-custom', 'kept']]);
			expect(init.method).toBe('POST');
			expect(server.requests.map((request) => request.headers['x-custom'])).toEqual(['kept', 'kept']);
		});
	});

	describe('redirects', () => {
		const redirectTo = (status: number, to: string) =>
			`${server.origin}/redirect/${status}?to=${encodeURIComponent(to)}`;

		it('gives each hop on the same origin a proof of its own: its htu, a new jti, the token kept', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(redirectTo(307, '/xrpc/com.example.moved'), {
				method: 'POST',
				headers: { authorization: 'DPoP tok', 'content-type': 'text/plain' },
				body: 'kept',
			});

			expect(response.status).toBe(200);
			expect(response.redirected).toBe(true);
			expect(response.url).toBe(`${server.origin}/xrpc/com.example.moved`);
			// the nonce challenge of the first hop, the redirect, then the new URL
			expect(server.requests.map((request) => [request.status, request.path])).toEqual([
				[400, '/redirect/307'],
				[307, '/redirect/307'],
				[200, '/xrpc/com.example.moved'],
			]);
			const proofs = proofsOf(server.requests);
			expect(proofs[2]?.htu).toBe(`${server.origin}/xrpc/com.example.moved`);
			expect(proofs[2]?.htm).toBe('POST');
			expect(proofs[2]?.ath).toBe(sha256('tok'));
			expect(new Set(proofs.map((proof) => proof.jti)).size).toBe(3);
			const last = server.requests[2]!;
			expect(last.body).toBe('kept');
			expect(last.headers.authorization).toBe('DPoP tok');
		});

		it('sends neither the token nor a proof to another origin, and learns no nonce from it', async () => {
			const nonces = new MemoryDpopNonceCache();
			const dpopFetch = createDpopFetch({ key, nonces });
			// the first origin's nonce, learnt from a request before
			await dpopFetch(`${server.origin}/xrpc/com.example.getThing`, {
				headers: { authorization: 'DPoP tok' },
			});
			server.clearRequests();

			for (const target of ['/plain/elsewhere', '/plain/challenge']) {
				other.clearRequests();
				const response = await dpopFetch(redirectTo(302, `${other.origin}${target}`), {
					headers: { authorization: 'DPoP tok', cookie: 'session=1' },
				});
				expect(response.redirected).toBe(true);
				// the other origin's challenge is returned as it is: not retried, its nonce not kept
				expect(response.status).toBe(target === '/plain/challenge' ? 401 : 200);
				expect(other.requests).toHaveLength(1);
				const { headers } = other.requests[0]!;
				expect(headers.authorization).toBeUndefined();
				expect(headers.dpop).toBeUndefined();
				expect(headers.cookie).toBeUndefined();
			}
			expect(nonces.get(server.origin)).toBe(server.nonce);
			expect(nonces.get(other.origin)).toBeUndefined();
			// the first origin saw one proven request per redirect, with its own nonce
			for (const proof of proofsOf(server.requests)) expect(proof.nonce).toBe(server.nonce);
		});

		it.each([301, 302, 303])(
			'turns a POST into a GET without its body on a %s, as fetch does',
			async (status) => {
				const dpopFetch = createDpopFetch({ key });

				const response = await dpopFetch(redirectTo(status, '/oauth/next'), {
					method: 'POST',
					headers: { 'content-type': 'application/x-www-form-urlencoded' },
					body: new URLSearchParams({ a: '1' }),
				});

				expect(response.status).toBe(200);
				const last = server.requests.at(-1)!;
				expect(last.method).toBe('GET');
				expect(last.body).toBe('');
				expect(last.headers['content-type']).toBeUndefined();
				expect(proofsOf([last])[0]?.htm).toBe('GET');
			},
		);

		it('follows a redirect of a Request too', async () => {
			const dpopFetch = createDpopFetch({ key });

			const response = await dpopFetch(
				new Request(redirectTo(308, '/xrpc/com.example.moved'), { headers: { authorization: 'DPoP tok' } }),
			);

			expect(response.status).toBe(200);
			expect(response.redirected).toBe(true);
			expect(proofsOf(server.requests).at(-1)?.htu).toBe(`${server.origin}/xrpc/com.example.moved`);
		});

		it("lets a fetch that hides redirects (a browser's opaqueredirect) follow them itself", async () => {
			const modes: (RequestRedirect | undefined)[] = [];
			const browserLike: FetchFunction = async (input, init) => {
				modes.push(init?.redirect);
				if (init?.redirect === 'manual') {
					const opaque = new Response(null, { status: 200 });
					Object.defineProperty(opaque, 'type', { value: 'opaqueredirect' });
					return opaque;
				}
				return fetch(input, init);
			};
			const dpopFetch = createDpopFetch({ key, fetch: browserLike });

			// the target checks no proof: the one fetch sends on names the first URL, as before
			const response = await dpopFetch(redirectTo(307, '/plain/moved'), { method: 'POST', body: 'x' });

			expect(response.status).toBe(200);
			// the hidden redirect, then the same request left to fetch (its nonce challenge, the retry)
			expect(modes).toEqual(['manual', undefined, undefined]);
			expect(server.requests.at(-1)).toMatchObject({ path: '/plain/moved', body: 'x' });
		});

		it('leaves "manual" and "error" to the fetch', async () => {
			const dpopFetch = createDpopFetch({ key });

			const manual = await dpopFetch(redirectTo(307, '/xrpc/com.example.moved'), { redirect: 'manual' });
			expect(manual.status).toBe(307);
			await expect(
				dpopFetch(redirectTo(307, '/xrpc/com.example.moved'), { redirect: 'error' }),
			).rejects.toBeInstanceOf(TypeError);
			expect(server.requests.some((request) => request.path === '/xrpc/com.example.moved')).toBe(false);
		});

		it('refuses to follow with a streamed body, a location that is not http(s), or past 20 redirects', async () => {
			// the nonce known already, so that the streamed request is not refused for want of one
			const nonces = new MemoryDpopNonceCache();
			nonces.set(server.origin, server.nonce);
			const dpopFetch = createDpopFetch({ key, nonces });

			await expect(
				dpopFetch(redirectTo(307, '/xrpc/com.example.moved'), {
					method: 'POST',
					body: streamOf('once'),
					// @ts-expect-error: Node's fetch needs it for a stream body; not in the DOM types
					duplex: 'half',
				}),
			).rejects.toThrow(/cannot follow a 307 redirect with a body that was streamed/);
			await expect(
				dpopFetch(new Request(redirectTo(308, '/xrpc/com.example.moved'), { method: 'POST', body: 'once' })),
			).rejects.toThrow(/pass a URL and init with a string or bytes body instead/);
			await expect(dpopFetch(redirectTo(302, 'data:text/plain,hi'))).rejects.toThrow(/not an http\(s\) URL/);

			server.clearRequests();
			const loop = `/redirect/302?to=${encodeURIComponent('/redirect/302?to=%2Fredirect%2F302')}`;
			await expect(dpopFetch(`${server.origin}${loop}`)).rejects.toThrow(/more than 20 redirects/);
			// the first request and 20 redirects followed, as fetch does: not one more
			expect(server.requests).toHaveLength(21);
		});
	});

	describe('options', () => {
		it('refuses a missing key, a fetch or clock that is not a function, and a retry that is not a boolean, at creation', () => {
			const cases: [options: unknown, message: string][] = [
				[undefined, 'createDpopFetch: options must be an object ({ key, ... }), got undefined'],
				[{}, 'createDpopFetch: key must be a DPoP key from generateDpopKey or importDpopKey, got undefined'],
				[
					{ key, fetch: 'x' },
					'createDpopFetch: fetch must be a function (such as globalThis.fetch), got string',
				],
				[
					{ key, now: 5 },
					'createDpopFetch: now must be a function returning milliseconds since the epoch (as Date.now, not its result), got number',
				],
				[{ key, sha256: null }, 'createDpopFetch: sha256 must be a function (such as computeAth), got null'],
				// 'false' is truthy: it would retry
				[{ key, retry: 'false' }, 'createDpopFetch: retry must be a boolean, got string'],
				[{ key, retry: 0 }, 'createDpopFetch: retry must be a boolean, got number'],
				[
					{ key, nonces: {} },
					'createDpopFetch: nonces must be a DpopNonceCache (with get and set), got an object without them',
				],
			];
			for (const [options, message] of cases) {
				expect(() => createDpopFetch(options as never), message).toThrow(new TypeError(message));
			}
		});

		it('takes every option left out or given as undefined, and retry true or false', () => {
			for (const options of [
				{ key },
				{ key, nonces: undefined, fetch: undefined, now: undefined, retry: undefined, sha256: undefined },
				{ key, retry: true },
				{ key, retry: false, nonces: new MemoryDpopNonceCache(), fetch, now: Date.now, sha256 },
			]) {
				expect(typeof createDpopFetch(options)).toBe('function');
			}
		});
	});

	describe('server clocks', () => {
		// the server's clock an hour ahead of ours: every proof stamped on ours is refused
		const AHEAD_MS = 3600_000;
		const statuses = (): number[] => server.requests.map((request) => request.status);
		/** a fetch that answers every request with a 400 invalid_dpop_proof dated on our clock. */
		const alwaysRefusing = () => {
			let calls = 0;
			const refusing: FetchFunction = async () => {
				calls += 1;
				return new Response('{"error":"invalid_dpop_proof"}', {
					status: 400,
					headers: { 'content-type': 'application/json', date: new Date().toUTCString() },
				});
			};
			return { fetch: refusing, calls: () => calls };
		};

		/**
		 * a server an hour ahead, and a fetch put on its clock by a first request: refused for its
		 * iat, then for want of a nonce, then taken. the server's requests are cleared after.
		 */
		const onTheServersClock = async () => {
			server.clock = () => Date.now() + AHEAD_MS;
			const clocks = new ServerClocks();
			const dpopFetch = createDpopFetch({ key, clocks });
			await (await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' })).arrayBuffer();
			expect(statuses()).toEqual([400, 400, 200]);
			server.clearRequests();
			return { clocks, dpopFetch };
		};

		it('retries a proof refused for its iat once, stamped on the server clock, and stamps later requests so', async () => {
			server.clock = () => Date.now() + AHEAD_MS;
			const clocks = new ServerClocks();
			const dpopFetch = createDpopFetch({ key, clocks });

			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

			expect(response.status).toBe(200);
			expect(await response.json()).toMatchObject({ body: 'a=1' });
			// refused for its iat, then for want of a nonce, then taken
			expect(statuses()).toEqual([400, 400, 200]);
			expect(server.requests[0]!.proofError).toMatch(/"iat"/);
			const [, second, third] = server.requests;
			const serverSeconds = (Date.now() + AHEAD_MS) / 1000;
			for (const request of [second!, third!]) {
				expect(request.proof!.iat).toBeLessThanOrEqual(serverSeconds);
				expect(request.proof!.iat).toBeGreaterThan(serverSeconds - 5);
			}
			expect(second!.proof!.jti).not.toBe(third!.proof!.jti);
			// the estimate never runs ahead of the server: a Date is rounded down, and was made before it arrived
			expect(clocks.offset(server.origin)).toBeLessThanOrEqual(AHEAD_MS);
			expect(clocks.offset(server.origin)).toBeGreaterThan(AHEAD_MS - 3000);
			expect(clocks.offset(other.origin)).toBeUndefined();

			server.clearRequests();
			await (await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=2' })).arrayBuffer();
			expect(statuses()).toEqual([200]);
		});

		it("retries a resource server's 401 invalid_dpop_proof challenge the same way", async () => {
			server.clock = () => Date.now() - AHEAD_MS;
			const dpopFetch = createDpopFetch({ key, clocks: new ServerClocks() });

			const response = await dpopFetch(`${server.origin}/xrpc/com.example.getThing`, {
				headers: { authorization: 'DPoP token' },
			});

			expect(response.status).toBe(200);
			expect(statuses()).toEqual([401, 401, 200]);
			expect(server.requests[0]!.proofError).toMatch(/"iat"/);
			expect(server.requests[2]!.proof!.ath).toBe(sha256('token'));
		});

		it('leaves every proof on our clock without clocks: the refusal is returned', async () => {
			server.clock = () => Date.now() + AHEAD_MS;
			const response = await createDpopFetch({ key })(`${server.origin}/oauth/token`, {
				method: 'POST',
				body: 'a=1',
			});
			expect(response.status).toBe(400);
			expect(await response.json()).toMatchObject({ error: 'invalid_dpop_proof' });
			expect(statuses()).toEqual([400]);
		});

		it('does not retry a refusal without a Date header, nor put the server on a clock', async () => {
			server.clock = () => Date.now() + AHEAD_MS;
			server.sendDate = false;
			const clocks = new ServerClocks();
			const response = await createDpopFetch({ key, clocks })(`${server.origin}/oauth/token`, {
				method: 'POST',
				body: 'a=1',
			});
			expect(response.status).toBe(400);
			expect(statuses()).toEqual([400]);
			expect(clocks.offset(server.origin)).toBeUndefined();
		});

		it('does not re-send a stream body, but puts the server on its clock for the next request', async () => {
			server.clock = () => Date.now() + AHEAD_MS;
			const clocks = new ServerClocks();
			const dpopFetch = createDpopFetch({ key, clocks });
			const response = await dpopFetch(`${server.origin}/oauth/token`, {
				method: 'POST',
				body: streamOf('a=1'),
				duplex: 'half',
			} as RequestInit);
			expect(response.status).toBe(400);
			expect(statuses()).toEqual([400]);
			expect(clocks.offset(server.origin)).toBeGreaterThan(AHEAD_MS - 3000);
		});

		it('with retry off, returns the refusal and leaves it to the caller to give to clocks.adopt', async () => {
			server.clock = () => Date.now() + AHEAD_MS;
			const clocks = new ServerClocks();
			const dpopFetch = createDpopFetch({ key, clocks, retry: false });
			const refused = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });
			expect(refused.status).toBe(400);
			expect(statuses()).toEqual([400]);
			expect(clocks.offset(server.origin)).toBeUndefined();

			expect(clocks.adopt(server.origin, refused.headers, undefined)).toBe(true);
			expect(await refused.json()).toMatchObject({ error: 'invalid_dpop_proof' });
			// the nonce is the caller's to retry for too; then the proof passes
			const nonced = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });
			expect(await nonced.json()).toMatchObject({ error: 'use_dpop_nonce' });
			const passed = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });
			expect(passed.status).toBe(200);
			await passed.arrayBuffer();
		});

		it('goes back to our clock for a server whose Date is not the clock it checks with', async () => {
			// a proxy in front says it is an hour ahead; the server checking the proofs runs on ours
			const proxied: FetchFunction = async (input, init) => {
				const response = await fetch(input, init);
				const headers = new Headers(response.headers);
				headers.set('date', new Date(Date.now() + AHEAD_MS).toUTCString());
				return new Response(response.body, { status: response.status, headers });
			};
			const clocks = new ServerClocks();
			const dpopFetch = createDpopFetch({ key, clocks, fetch: proxied });
			// one refusal that is not about the clock: a nonce the server has rotated past, twice
			const stale = server.nonce;
			server.rotateNonce();
			const nonces = new MemoryDpopNonceCache();
			nonces.set(server.origin, stale);
			const withStale = createDpopFetch({ key, clocks, fetch: proxied, nonces });
			// a use_dpop_nonce refusal is not a proof refusal: stays on ours
			await (await withStale(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' })).arrayBuffer();
			expect(clocks.offset(server.origin)).toBeUndefined();

			// a proof refusal that is not about the clock (its htu names another path) puts it on the
			// proxy's "clock"; the retry stamped so is refused too, and it goes back to ours
			server.clearRequests();
			const misdirected: FetchFunction = (input, init) =>
				proxied(String(input).replace('/oauth/token', '/oauth/other'), init);
			const wrong = createDpopFetch({ key, clocks, fetch: misdirected });
			expect((await wrong(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' })).status).toBe(400);
			expect(statuses()).toEqual([400, 400]);
			expect(server.requests[1]!.proofError).toMatch(/"iat"/);
			expect(clocks.offset(server.origin)).toBeUndefined();

			// and stays there: the next requests pass on our clock
			server.clearRequests();
			await (await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=2' })).arrayBuffer();
			await (await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=3' })).arrayBuffer();
			expect(statuses().at(-1)).toBe(200);
			expect(server.requests.every((request) => request.proofError === undefined)).toBe(true);
		});

		it('keeps a server on its clock once a request stamped on it passed: a refusal not about the clock is not retried', async () => {
			const { clocks } = await onTheServersClock();

			// a proof refused for its htu (the request went to another path)
			const misdirected = createDpopFetch({
				key,
				clocks,
				fetch: (input, init) => fetch(String(input).replace('/oauth/token', '/oauth/other'), init),
			});
			const refused = await misdirected(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=2' });
			expect(await refused.json()).toMatchObject({ error: 'invalid_dpop_proof' });
			expect(statuses()).toEqual([400]);
			expect(server.requests[0]!.proofError).toMatch(/htu/);
			expect(clocks.offset(server.origin)).toBeGreaterThan(AHEAD_MS - 3000);
		});

		it('retries a refusal that is not about the clock at most once per origin', async () => {
			const { fetch: refusing, calls } = alwaysRefusing();
			const clocks = new ServerClocks();
			const dpopFetch = createDpopFetch({ key, clocks, fetch: refusing });

			expect((await dpopFetch('https://as.example/oauth/par', { method: 'POST', body: 'a=1' })).status).toBe(
				400,
			);
			// once: on our clock, nothing told it the server's clock was fine
			expect(calls()).toBe(2);
			expect((await dpopFetch('https://as.example/oauth/par', { method: 'POST', body: 'a=1' })).status).toBe(
				400,
			);
			// not again: the server's clock has not moved since
			expect(calls()).toBe(3);
		});

		it('retries again when the server clock moved by a second or more since the proof was stamped', async () => {
			const { clocks, dpopFetch } = await onTheServersClock();

			// the server's clock is set back 10 minutes: what we stamp is now ahead of it
			server.clock = () => Date.now() + AHEAD_MS - 600_000;
			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=2' });
			expect(response.status).toBe(200);
			expect(statuses()).toEqual([400, 200]);
			expect(clocks.offset(server.origin)).toBeLessThanOrEqual(AHEAD_MS - 600_000);
		});

		it('refuses clocks that are not a ServerClocks', () => {
			expect(() => createDpopFetch({ key, clocks: { now: Date.now } as never })).toThrow(
				/clocks must be a ServerClocks, got an object without its methods/,
			);
			expect(() => createDpopFetch({ key, clocks: null as never })).toThrow(
				/clocks must be a ServerClocks, got null/,
			);
		});
	});

	describe('signing', () => {
		it('takes iat from the injected clock', async () => {
			const fixed = 1_700_000_000_999;
			server.clock = () => fixed;
			const dpopFetch = createDpopFetch({ key, now: () => fixed });

			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

			expect(response.status).toBe(200);
			expect(proofsOf(server.requests).map((proof) => proof.iat)).toEqual([1_700_000_000, 1_700_000_000]);
		});

		it('signs once per request sent with the key it was given, never re-importing it', async () => {
			let signatures = 0;
			const counting: DpopKey = {
				...key,
				sign: (data) => {
					signatures++;
					return key.sign(data);
				},
			};
			const dpopFetch = createDpopFetch({ key: counting });

			await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });
			expect(signatures).toBe(2);
			await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });
			expect(signatures).toBe(3);
			await dpopFetch(`${server.origin}/xrpc/com.example.getThing`, { headers: { authorization: 'DPoP t' } });
			expect(signatures).toBe(4);
			server.rotateNonce();
			await dpopFetch(`${server.origin}/xrpc/com.example.getThing`, { headers: { authorization: 'DPoP t' } });
			expect(signatures).toBe(6);

			expect(server.requests).toHaveLength(signatures);
			for (const request of server.requests) {
				expect(request.proofHeader?.jwk).toStrictEqual({ ...key.publicJwk });
			}
			proofsOf(server.requests);
		});

		it('embeds the public key of an RSA key and passes the server checks', async () => {
			const rsa = await generateDpopKey(['PS256']);
			const dpopFetch = createDpopFetch({ key: rsa });

			const response = await dpopFetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=1' });

			expect(response.status).toBe(200);
			proofsOf(server.requests);
			expect(server.requests.map((request) => request.proofHeader?.alg)).toEqual(['PS256', 'PS256']);
		});
	});
});
