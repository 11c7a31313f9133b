// RFC 6749 §3.3: scope = scope-token *( SP scope-token ), scope-token = 1*NQCHAR (%x21 / %x23-5B /
// %x5D-7E). a token response whose scope holds anything else (a byte that is no UTF-8, read as
// U+FFFD; a control character; a letter past ASCII) is a broken answer, refused as one with its
// grant revoked, as a token with such a character is: not a session whose granted scope no
// request could have asked for
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { InvalidResponseError } from './errors.ts';
import { createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';
import { parseTokenResponse } from './token-response.ts';

/** a fetch whose token endpoint answers carry the bytes `change` makes of their JSON text. */
const rewritten = (change: (json: string) => Uint8Array<ArrayBuffer>): typeof globalThis.fetch =>
	(async (input, init) => {
		const response = await globalThis.fetch(input, init);
		if (new URL(String(input)).pathname !== '/oauth/token' || response.status !== 200) return response;
		const headers = new Headers(response.headers);
		headers.delete('content-length');
		return new Response(change(await response.text()), { status: 200, headers });
	}) as typeof globalThis.fetch;

const utf8 = (text: string) => new TextEncoder().encode(text);

/** the JSON text with `bytes` put right after the scope's value opens. */
const intoScope = (json: string, bytes: Uint8Array): Uint8Array<ArrayBuffer> => {
	const at = json.indexOf('"scope":"') + '"scope":"'.length;
	const head = utf8(json.slice(0, at));
	const tail = utf8(json.slice(at));
	const out = new Uint8Array(head.length + bytes.length + tail.length);
	out.set(head, 0);
	out.set(bytes, head.length);
	out.set(tail, head.length + bytes.length);
	return out;
};

describe('parseTokenResponse: a scope no request could have asked for', () => {
	const valid = {
		access_token: 'at-secret',
		token_type: 'DPoP',
		sub: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
		refresh_token: 'rt-secret',
	};
	it.each([
		['a replacement character', 'atproto transition:generic\ufffd'],
		['a NUL', 'atproto transition:\u0000generic'],
		['a letter past ASCII', 'atproto repo:app.bsky.feed.pöst'],
		['a double quote', 'atproto "transition:generic"'],
		['a tab between tokens', 'atproto transition:generic\tidentity:handle'],
	])('refuses one with %s', (_what, scope) => {
		expect(() => parseTokenResponse({ ...valid, scope })).toThrow(/"scope"/);
	});

	it('takes printable ASCII tokens, and is lenient about the spaces between them', () => {
		for (const scope of [
			'atproto transition:generic repo:app.bsky.feed.post?action=create rpc:*?aud=did:web:x%23y',
			'atproto  transition:generic ',
		]) {
			expect(parseTokenResponse({ ...valid, scope }).scope).toBe(scope);
		}
	});
});

describe('OAuthClient.callback: a granted scope with a byte that is no UTF-8', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => {
		({ server, alice } = env);
	});

	it('refuses the answer, stores nothing and revokes the grant', async () => {
		const { client, sessions } = await createTestClient(server, {
			// 0xff is never UTF-8: decoded, it becomes U+FFFD
			fetch: rewritten((json) => intoScope(json, new Uint8Array([0xff, 0x20]))),
		});
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const result = await client.callback(await server.authorize(url, { did: alice.did })).catch((e) => e);
		expect(result).toBeInstanceOf(InvalidResponseError);
		expect((result as Error).message).toMatch(/"scope"/);
		expect(sessions.map.size).toBe(0);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: false });
	});
});
