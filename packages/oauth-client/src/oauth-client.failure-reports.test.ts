import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Did } from '@atcute/lexicons';
import { createTestTls, type TestTls } from '@atcute-oauth/test-oauth-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
	InvalidResponseError,
	OAuthCallbackError,
	OAuthResponseError,
	OAuthTransientError,
} from './errors.ts';
import {
	signIn,
	type TestAccount,
	type TestOAuthServer,
	type TestServerEnv,
	useTestServer,
} from './test-utils/setup.ts';

/** at most `ms`, and less only by what the test took. */
const about = (ms: number) => expect.toSatisfy((left: number) => left <= ms && left > ms - 10_000);

/**
 * a fetch to the test server on which, while `answer` is set, the token endpoint's refresh
 * requests get what it gives (a response, or its throw) instead of the server's answer.
 */
const refreshAnswered = (server: TestOAuthServer) => {
	const state = {
		answer: undefined as (() => Response) | undefined,
		fetch: (async (input, init) => {
			const url = String(input instanceof Request ? input.url : input);
			const isRefresh =
				url === `${server.issuer}/oauth/token` && String(init?.body).includes('grant_type=refresh_token');
			if (isRefresh && state.answer !== undefined) return state.answer();
			return globalThis.fetch(input, init);
		}) as typeof globalThis.fetch,
	};
	return state;
};

describe('how a failed refresh at the token endpoint is reported', () => {
	let server: TestOAuthServer;
	let alice: TestAccount;
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, createTestClient } = env));

	const refreshFailure = async (answer: () => Response) => {
		const transport = refreshAnswered(server);
		const { client, sessions } = await createTestClient(server, { fetch: transport.fetch });
		const { session } = await signIn(server, client, alice.did);
		transport.answer = answer;
		const error = await session.refresh().catch((err: unknown) => err);
		return { error, kept: sessions.map.has(alice.did as Did) };
	};

	it('reports a 408 Request Timeout as a time-out to try again, as discovery and identity do, and keeps the session', async () => {
		const { error, kept } = await refreshFailure(() => new Response('request timeout', { status: 408 }));
		expect(error).toBeInstanceOf(OAuthTransientError);
		expect(error).toMatchObject({ kind: 'timeout', status: 408, transient: true });
		expect(kept).toBe(true);
	});

	it("exposes the Retry-After of a temporarily_unavailable answered with a 4xx, as it does a 503's", async () => {
		const { error, kept } = await refreshFailure(
			() =>
				new Response('{"error":"temporarily_unavailable"}', {
					status: 400,
					headers: { 'content-type': 'application/json', 'retry-after': '30' },
				}),
		);
		expect(error).toBeInstanceOf(OAuthTransientError);
		expect(error).toMatchObject({ kind: 'server_error', status: 400, retryAfterMs: about(30_000) });
		expect(kept).toBe(true);
	});

	describe('names the token endpoint it failed at, so an operator can tell which server', () => {
		const cases: [string, () => Response, new (...args: never[]) => Error][] = [
			['a 502', () => new Response('bad gateway', { status: 502 }), OAuthTransientError],
			[
				'an OAuth error',
				() =>
					Response.json(
						{ error: 'invalid_client', error_description: 'client authentication failed' },
						{ status: 401 },
					),
				OAuthResponseError,
			],
			[
				'a 200 that is not JSON',
				() => new Response('<html>maintenance</html>', { status: 200 }),
				InvalidResponseError,
			],
			[
				'a connection never made',
				() => {
					throw new TypeError('fetch failed', {
						cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
					});
				},
				OAuthTransientError,
			],
		];
		for (const [name, answer, errorClass] of cases) {
			it(`for ${name}`, async () => {
				const { error } = await refreshFailure(answer);
				expect(error).toBeInstanceOf(errorClass);
				expect((error as Error).message).toContain(`${server.issuer}/oauth/token`);
			});
		}
	});
});

describe('how a callback carrying the authorization server error is reported', () => {
	let server: TestOAuthServer;
	let alice: TestAccount;
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, createTestClient } = env));

	/** the callback of a started sign-in, its code replaced by the server's `error`. */
	const callbackWithError = async (error: string) => {
		const { client } = await createTestClient(server);
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.handle } });
		const granted = await server.authorize(url, { did: alice.did });
		const params = new URLSearchParams({ state: granted.get('state')!, iss: granted.get('iss')!, error });
		return client.callback(params).catch((err: unknown) => err);
	};

	for (const error of ['temporarily_unavailable', 'server_error']) {
		it(`marks ${error} transient (RFC 6749 §4.1.2.1: the server cannot handle it for now)`, async () => {
			const thrown = await callbackWithError(error);
			expect(thrown).toBeInstanceOf(OAuthCallbackError);
			expect(thrown).toMatchObject({ error, transient: true });
		});
	}

	for (const error of ['access_denied', 'invalid_scope']) {
		it(`marks ${error} not transient: the same sign-in gets the same answer`, async () => {
			const thrown = await callbackWithError(error);
			expect(thrown).toBeInstanceOf(OAuthCallbackError);
			expect(thrown).toMatchObject({ error, transient: false });
		});
	}
});

describe('a code exchange whose TLS handshake failed', () => {
	let server: TestOAuthServer;
	let alice: TestAccount;
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, createTestClient } = env));

	// a server whose certificate this process does not trust (its CA is not among the trusted ones)
	let tls: TestTls;
	let untrusted: Server;
	let requestsReceived = 0;
	beforeAll(async () => {
		tls = await createTestTls();
		untrusted = createHttpsServer({ cert: tls.cert, key: tls.key }, (_request, response) => {
			requestsReceived++;
			response.writeHead(500).end();
		});
		untrusted.on('tlsClientError', () => {});
		await new Promise<void>((resolve) => untrusted.listen(0, '127.0.0.1', resolve));
	});
	afterAll(async () => {
		untrusted.closeAllConnections();
		await new Promise((resolve) => untrusted.close(resolve));
		await tls.remove();
	});

	it('puts the state back: the handshake failed before the code was sent, so a reload signs in', async () => {
		const transport = {
			elsewhere: undefined as string | undefined,
			fetch: (async (input, init) => {
				const url = new URL(String(input));
				if (transport.elsewhere !== undefined && url.pathname === '/oauth/token') {
					return globalThis.fetch(new URL(url.pathname, transport.elsewhere), init);
				}
				return globalThis.fetch(input, init);
			}) as typeof globalThis.fetch,
		};
		const { client, states } = await createTestClient(server, { fetch: transport.fetch });
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.handle } });
		const params = await server.authorize(url, { did: alice.did });
		transport.elsewhere = `https://localhost:${(untrusted.address() as AddressInfo).port}`;

		const error = await client.callback(params).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(OAuthTransientError);
		expect(error).toMatchObject({ kind: 'network', transient: true });
		expect(requestsReceived).toBe(0);
		expect(states.map.size).toBe(1);

		// the certificate is fixed (here: the real endpoint is back): the user reloads the callback page
		transport.elsewhere = undefined;
		const { session } = await client.callback(params);
		expect(session.did).toBe(alice.did);
		expect(server.stats.token.authorization_code).toBe(1);
	});
});
