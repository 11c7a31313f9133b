// an access token goes into the Authorization header of every PDS request: one with a character
// no header can carry (RFC 6749 A.12: access-token = 1*VSCHAR, %x20-7E) was taken and stored, and
// then every request threw a TypeError from Headers whose message quotes the header, token and all
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { InvalidResponseError } from './errors.ts';
import { createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';
import { parseTokenResponse } from './token-response.ts';

/** a fetch whose token endpoint answers carry what `change` makes of their tokens. */
const rewritten = (change: (tokens: Record<string, unknown>) => void): typeof globalThis.fetch =>
	(async (input, init) => {
		const response = await globalThis.fetch(input, init);
		if (new URL(String(input)).pathname !== '/oauth/token' || response.status !== 200) return response;
		const tokens = (await response.json()) as Record<string, unknown>;
		change(tokens);
		return Response.json(tokens, { headers: response.headers });
	}) as typeof globalThis.fetch;

const ODD = [
	['a line feed', '\n'],
	['a NUL', '\u0000'],
	['a lone surrogate', '\ud800'],
	['a character past Latin-1', '\u0100'],
] as const;

describe('parseTokenResponse: tokens no request can carry', () => {
	const valid = {
		access_token: 'at-secret',
		token_type: 'DPoP',
		sub: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
		scope: 'atproto',
		refresh_token: 'rt-secret',
	};
	for (const [what, odd] of ODD) {
		for (const field of ['access_token', 'refresh_token']) {
			it(`refuses ${field} with ${what}, naming the field but not the token`, () => {
				let error: unknown;
				try {
					parseTokenResponse({ ...valid, [field]: `secret-${odd}-token` });
				} catch (err) {
					error = err;
				}
				expect(error).toBeInstanceOf(InvalidResponseError);
				expect((error as Error).message).toContain(`"${field}"`);
				expect((error as Error).message).not.toMatch(/secret/);
			});
		}
	}
});

describe('OAuthClient.callback: an access token no request can carry', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => {
		({ server, alice } = env);
	});

	for (const [what, odd] of ODD) {
		it(`refuses one with ${what}, stores nothing and revokes the grant`, async () => {
			let issued = '';
			const { client, sessions } = await createTestClient(server, {
				fetch: rewritten((tokens) => {
					issued = `${tokens.access_token}`;
					tokens.access_token = `${issued}${odd}x`;
				}),
			});
			const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
			const result = await client.callback(await server.authorize(url, { did: alice.did })).catch((e) => e);
			// today: the session is stored, and every request then throws a TypeError quoting the token
			expect(result).toBeInstanceOf(InvalidResponseError);
			expect((result as Error).message).not.toContain(issued);
			expect(sessions.map.size).toBe(0);
			expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: false });
		});
	}
});
