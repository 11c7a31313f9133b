import { inspect } from 'node:util';

import { describe, expect, it } from 'vitest';

import { type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

// an authorization server that quotes what it was sent ("unknown refresh token …") must not put
// a live secret into the errors an app logs
describe('OAuthClient: secrets a server quotes back are not in the errors', () => {
	let server: TestOAuthServer;
	let alice: { did: `did:${string}:${string}` };
	let createTestClient: Parameters<Parameters<typeof useTestServer>[0]>[0]['createTestClient'];
	useTestServer((env) => {
		({ server, alice, createTestClient } = env);
	});

	/**
	 * a fetch that sends requests to the test server, records the secrets each form body carried,
	 * and lets `answer` replace the answer of a request to a path it names.
	 */
	const quotingFetch = (answer: (path: string, body: URLSearchParams) => Response | undefined) => {
		const sent: string[] = [];
		const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
			const body = init?.body instanceof URLSearchParams ? init.body : undefined;
			if (body !== undefined) {
				for (const name of ['code', 'code_verifier', 'refresh_token', 'client_assertion', 'state']) {
					const value = body.get(name);
					if (value !== null) sent.push(value);
				}
				const replaced = answer(new URL(String(input)).pathname, body);
				if (replaced !== undefined) return replaced;
			}
			return globalThis.fetch(input, init);
		};
		return { sent, fetch };
	};

	/** everything an app's logger may print of `error`, its causes included. */
	const printed = (error: unknown) => `${inspect(error, { depth: 10 })}\n${String(error)}`;

	const expectNoneOf = (error: unknown, secrets: string[]) => {
		expect(error).toBeInstanceOf(Error);
		const text = printed(error);
		expect(secrets.length).toBeGreaterThan(0);
		for (const secret of secrets) expect(text).not.toContain(secret);
		expect(text).toContain('[redacted]');
	};

	it('a refresh refused with the refresh token in the description', async () => {
		const { sent, fetch } = quotingFetch((path, body) => {
			const token = body.get('refresh_token');
			if (path !== '/oauth/token' || token === null) return undefined;
			return Response.json(
				{ error: 'invalid_grant', error_description: `unknown refresh token ${token}` },
				{ status: 400 },
			);
		});
		const { client } = await createTestClient(server, { fetch });
		const { session } = await signInWith(client, alice.did);

		const error = await session.refresh().catch((e) => e);

		expect(error.name).toBe('TokenRefreshError');
		expectNoneOf(error, sent);
	});

	it('a code exchange refused with the code in the error, and the verifier and the assertion in the description', async () => {
		const { sent, fetch } = quotingFetch((path, body) => {
			if (path !== '/oauth/token' || body.get('grant_type') !== 'authorization_code') return undefined;
			const quoted = ['code', 'code_verifier', 'client_assertion'].map((name) => body.get(name)).join(' ');
			return Response.json(
				{ error: `invalid_request_${body.get('code')}`, error_description: quoted },
				{ status: 400 },
			);
		});
		const { client } = await createTestClient(server, { fetch });

		const error = await signInWith(client, alice.did).catch((e) => e);

		expect(error.message).toMatch(/invalid_request/);
		expectNoneOf(error, sent);
	});

	// the tokens of a refused answer are revoked, but an app's log is no place for them either
	for (const [what, subOf] of [
		['the code it was sent for', (code: string) => code],
		['the refresh token it carries', () => 'rt-quoted-secrets'],
	] as const) {
		it(`a token answer whose "sub" is ${what}`, async () => {
			const tokens = ['at-quoted-secrets', 'rt-quoted-secrets'];
			const { sent, fetch } = quotingFetch((path, body) => {
				const code = body.get('code');
				if (path !== '/oauth/token' || code === null) return undefined;
				return Response.json(
					{
						access_token: tokens[0],
						refresh_token: tokens[1],
						token_type: 'DPoP',
						sub: subOf(code),
						scope: 'atproto',
						expires_in: 60,
					},
					{ headers: { 'dpop-nonce': 'n' } },
				);
			});
			const { client } = await createTestClient(server, { fetch });

			const error = await signInWith(client, alice.did).catch((e) => e);

			expect(error.message).toMatch(/sub/);
			expectNoneOf(error, [...sent, ...tokens]);
		});
	}

	it('a pushed authorization request refused with the client assertion quoted', async () => {
		const { sent, fetch } = quotingFetch((path, body) => {
			if (path !== '/oauth/par') return undefined;
			return Response.json(
				{ error: 'invalid_client', error_description: `bad assertion ${body.get('client_assertion')}` },
				{ status: 401 },
			);
		});
		const { client } = await createTestClient(server, { fetch });

		const error = await client
			.authorize({ target: { type: 'account', identifier: alice.did } })
			.catch((e) => e);

		expect(error.message).toMatch(/invalid_client/);
		expectNoneOf(error, sent);
	});

	const signInWith = async (client: Awaited<ReturnType<typeof createTestClient>>['client'], did: string) => {
		const { url } = await client.authorize({ target: { type: 'account', identifier: did } });
		return client.callback(await server.authorize(url, { did: did as typeof alice.did }));
	};
});
