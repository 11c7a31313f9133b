// hostile shapes of a token response within its 64 KiB cap: a check's refusal must name the field
// as an `InvalidResponseError`, in a message of bounded length, whatever the server put there
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { InvalidResponseError } from './errors.ts';
import { createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';
import { parseTokenResponse } from './token-response.ts';

/** 30 000 nested arrays: 60 KB of JSON, which JSON.parse takes and JSON.stringify cannot write. */
const DEEP = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;

/** a fetch that puts `field`'s JSON text, as written, into the token endpoint's 200 answers. */
const tokenFieldRewritten = (field: string, json: string): typeof globalThis.fetch =>
	(async (input, init) => {
		const response = await globalThis.fetch(input, init);
		if (new URL(String(input)).pathname !== '/oauth/token' || response.status !== 200) return response;
		const tokens = (await response.json()) as Record<string, unknown>;
		delete tokens[field];
		const text = `${JSON.stringify(tokens).slice(0, -1)},${JSON.stringify(field)}:${json}}`;
		const headers = new Headers(response.headers);
		headers.delete('content-length');
		return new Response(text, { status: 200, headers });
	}) as typeof globalThis.fetch;

describe('parseTokenResponse: odd shapes', () => {
	const valid = {
		access_token: 'at-secret',
		token_type: 'DPoP',
		sub: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
		scope: 'atproto',
	};
	for (const field of ['token_type', 'sub', 'scope'] as const) {
		it(`refuses a deeply nested ${field} as an InvalidResponseError naming it`, () => {
			let error: unknown;
			try {
				parseTokenResponse({ ...valid, [field]: JSON.parse(DEEP) });
			} catch (err) {
				error = err;
			}
			expect(error).toBeInstanceOf(InvalidResponseError);
			expect((error as Error).message).toContain(`"${field}"`);
		});
		it(`refuses a 60 KB ${field} in a message of bounded length`, () => {
			let error: unknown;
			try {
				parseTokenResponse({ ...valid, [field]: { x: 'y'.repeat(60_000) } });
			} catch (err) {
				error = err;
			}
			expect(error).toBeInstanceOf(InvalidResponseError);
			expect((error as Error).message.length).toBeLessThan(1_000);
		});
		it(`refuses a ${field} with bidi overrides and line separators in a message of one plain line`, () => {
			let error: unknown;
			try {
				parseTokenResponse({ ...valid, [field]: 'x\u202e\u2028\u2029\u200bDPoP' });
			} catch (err) {
				error = err;
			}
			expect(error).toBeInstanceOf(InvalidResponseError);
			// JSON.stringify escapes C0 controls only: a log viewer would reorder or break the line
			expect((error as Error).message).not.toMatch(/[\u202e\u2028\u2029\u200b]/);
			expect((error as Error).message).toContain('\\u202e');
		});
	}
});

describe('OAuthClient.callback: a token response with a deeply nested field', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => {
		server = env.server;
		alice = env.alice;
	});

	it('refuses it naming the field, and stores nothing', async () => {
		const { client, sessions } = await createTestClient(server, {
			fetch: tokenFieldRewritten('token_type', DEEP),
		});
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const error = await client.callback(await server.authorize(url, { did: alice.did })).catch((e) => e);
		expect(error).toBeInstanceOf(InvalidResponseError);
		// today: "token endpoint: Maximum call stack size exceeded"
		expect(error.message).toMatch(/"token_type"/);
		expect(sessions.map.size).toBe(0);
	});
});
