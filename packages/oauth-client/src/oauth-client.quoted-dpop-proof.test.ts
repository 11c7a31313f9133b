import { inspect } from 'node:util';

import { describe, expect, it } from 'vitest';

import { type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

// the DPoP proof (a signed JWT, sent in a header) is a secret as much as the client assertion: a
// server that quotes it back must not put it into the errors an app logs
describe('OAuthClient: a DPoP proof a server quotes back is not in the errors', () => {
	let server: TestOAuthServer;
	let alice: { did: `did:${string}:${string}` };
	let createTestClient: Parameters<Parameters<typeof useTestServer>[0]>[0]['createTestClient'];
	useTestServer((env) => {
		({ server, alice, createTestClient } = env);
	});

	const printed = (error: unknown) => `${inspect(error, { depth: 10 })}\n${String(error)}`;

	const quotingFetch = (path: string) => {
		const proofs: string[] = [];
		const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
			const proof = new Headers(init?.headers).get('dpop');
			if (proof !== null && new URL(String(input)).pathname === path) {
				proofs.push(proof);
				return Response.json(
					{ error: 'invalid_request', error_description: `cannot read DPoP proof ${proof}` },
					{ status: 400 },
				);
			}
			return globalThis.fetch(input, init);
		};
		return { proofs, fetch };
	};

	it('a pushed authorization request refused with its DPoP proof quoted', async () => {
		const { proofs, fetch } = quotingFetch('/oauth/par');
		const { client } = await createTestClient(server, { fetch });

		const error = await client
			.authorize({ target: { type: 'account', identifier: alice.did } })
			.catch((e) => e);

		expect(error).toBeInstanceOf(Error);
		expect(error.message).toMatch(/invalid_request/);
		expect(proofs.length).toBeGreaterThan(0);
		for (const proof of proofs) expect(printed(error)).not.toContain(proof);
	});
});
