import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import type { Did } from '@atcute/lexicons';
import { sha256Base64url } from '@atcute/oauth-keys';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import type { OAuthClientOptions } from '../index.ts';
import { createTestServerClient } from '../test-utils/test-server-client.ts';
import { nodeSha256 } from './node-sha256.ts';

describe('nodeSha256', () => {
	it('answers synchronously with what WebCrypto gives, for any text', async () => {
		// RFC 7636 appendix B's verifier and challenge
		expect(nodeSha256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
			'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
		);
		for (const text of ['', 'abc', 'élan ✓ 🦋', 'x'.repeat(900), '\u0000 and \ud83e\udd8b']) {
			const hash = nodeSha256(text);
			expect(typeof hash).toBe('string');
			expect(hash).toBe(await sha256Base64url(text));
		}
	});
});

describe('OAuthClient hashing', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	beforeAll(async () => {
		server = await startTestOAuthServer();
		alice = server.createAccount({ handle: 'alice.test' }) as { did: Did; handle: string };
	});
	afterAll(() => server.close());
	afterEach(() => vi.restoreAllMocks());

	/** signs alice in and makes one call on the session and one on a restored one. */
	const signInAndCall = async (options: Partial<OAuthClientOptions> = {}) => {
		const oauth = await createTestServerClient(server, options);
		const { url } = await oauth.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		// the server checks the PKCE challenge and every proof's ath
		const { session } = await oauth.callback(await server.authorize(url, { did: alice.did }));
		for (const handler of [session, await oauth.restore(alice.did)]) {
			const result = await new Client({ handler }).get('com.atproto.server.getSession', {});
			expect(result.ok).toBe(true);
		}
	};

	it('hashes the PKCE challenge and ath in node:crypto by default, never through WebCrypto', async () => {
		const digest = vi.spyOn(globalThis.crypto.subtle, 'digest');
		await signInAndCall();
		// the test server runs in this process and hashes JWK thumbprints through WebCrypto (jose):
		// those are the only digests, no verifier and no access token
		const inputs = digest.mock.calls.map(([, data]) => new TextDecoder().decode(data as Uint8Array));
		expect(inputs.length).toBeGreaterThan(0);
		for (const input of inputs) expect(input).toMatch(/^\{"(crv|e)":/);
	});

	it('uses the sha256 the app gives instead', async () => {
		const sha256 = vi.fn(sha256Base64url);
		await signInAndCall({ sha256 });
		// the client key's thumbprint (once per client), the PKCE verifier, then the access token
		// once per session object
		expect(sha256).toHaveBeenCalledTimes(4);
		expect(sha256.mock.calls[0]![0]).toMatch(/^\{"crv":"P-256","kty":"EC","x":/);
	});
});
