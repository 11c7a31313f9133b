import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createTestTls } from './create-test-tls.ts';
import { startTestOAuthServer } from './start-test-oauth-server.ts';
import type { TestOAuthServer } from './test-oauth-server.ts';
import { MiniClient, type Tokens } from './test-utils/mini-client.ts';

let server: TestOAuthServer;
let alice: { did: string; handle: string };

beforeAll(async () => {
	server = await startTestOAuthServer();
	alice = server.createAccount({ handle: 'alice.test' });
});
afterAll(async () => {
	await server.close();
});
beforeEach(() => {
	server.reset();
});

describe('identity and discovery', () => {
	it('listens on three loopback origins without trailing slashes', () => {
		for (const url of [server.plcUrl, server.pdsUrl, server.issuer]) {
			expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
		}
		expect(new Set([server.plcUrl, server.pdsUrl, server.issuer]).size).toBe(3);
	});

	it('serves https with the given certificate, under the given host name', async () => {
		const tls = await createTestTls(['localhost']);
		try {
			const { cert, key } = tls;
			const secure = await startTestOAuthServer({ tls: { cert, key }, host: 'localhost' });
			try {
				const bob = secure.createAccount({ handle: 'bob.test' });
				for (const url of [secure.plcUrl, secure.pdsUrl, secure.issuer]) {
					expect(url).toMatch(/^https:\/\/localhost:\d+$/);
				}
				// trusted through the CA that signed it, as NODE_EXTRA_CA_CERTS would
				const ca = await readFile(tls.caPath, 'utf8');
				const document = await new Promise<Record<string, unknown>>((resolve, reject) => {
					httpsGet(`${secure.plcUrl}/${bob.did}`, { ca }, (response) => {
						let body = '';
						response.on('data', (chunk) => (body += chunk));
						response.on('end', () => resolve(JSON.parse(body)));
					}).on('error', reject);
				});
				expect(document).toMatchObject({ service: [{ serviceEndpoint: secure.pdsUrl }] });
				// plain http on the same port is not answered as http
				await expect(fetch(secure.plcUrl.replace('https:', 'http:'))).rejects.toThrow();
			} finally {
				await secure.close();
			}
		} finally {
			await tls.remove();
		}
	});

	it('serves the DID document on the PLC directory, 404 for unknown DIDs', async () => {
		expect(alice.did).toMatch(/^did:plc:[a-z2-7]{24}$/);
		const response = await fetch(`${server.plcUrl}/${alice.did}`);
		expect(response.status).toBe(200);
		const document = (await response.json()) as Record<string, unknown>;
		expect(document).toMatchObject({
			id: alice.did,
			alsoKnownAs: ['at://alice.test'],
			service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: server.pdsUrl }],
		});
		expect((await fetch(`${server.plcUrl}/did:plc:aaaaaaaaaaaaaaaaaaaaaaaa`)).status).toBe(404);
	});

	it('resolves handles on the PDS, 400 InvalidRequest for unknown ones', async () => {
		const ok = await fetch(`${server.pdsUrl}/xrpc/com.atproto.identity.resolveHandle?handle=alice.test`);
		expect(await ok.json()).toEqual({ did: alice.did });
		expect(ok.headers.get('dpop-nonce')).toBe(server.nonces.pds);
		const unknown = await fetch(`${server.pdsUrl}/xrpc/com.atproto.identity.resolveHandle?handle=bob.test`);
		expect(unknown.status).toBe(400);
		expect(await unknown.json()).toMatchObject({ error: 'InvalidRequest' });
	});

	it('serves the protected resource and authorization server metadata', async () => {
		const prm = await fetch(`${server.pdsUrl}/.well-known/oauth-protected-resource`);
		expect(prm.status).toBe(200);
		expect(prm.headers.get('content-type')).toBe('application/json');
		expect(await prm.json()).toEqual({
			resource: server.pdsUrl,
			authorization_servers: [server.issuer],
			scopes_supported: [],
			bearer_methods_supported: ['header'],
			resource_documentation: 'https://atproto.com',
		});

		const asm = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`);
		expect(asm.status).toBe(200);
		expect(asm.headers.get('content-type')).toBe('application/json');
		expect(await asm.json()).toMatchObject({
			issuer: server.issuer,
			authorization_endpoint: `${server.issuer}/oauth/authorize`,
			token_endpoint: `${server.issuer}/oauth/token`,
			pushed_authorization_request_endpoint: `${server.issuer}/oauth/par`,
			revocation_endpoint: `${server.issuer}/oauth/revoke`,
			require_pushed_authorization_requests: true,
			response_types_supported: ['code'],
			grant_types_supported: ['authorization_code', 'refresh_token'],
			code_challenge_methods_supported: ['S256'],
			token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
			token_endpoint_auth_signing_alg_values_supported: ['ES256', 'ES384', 'ES512', 'PS256', 'RS256'],
			dpop_signing_alg_values_supported: ['ES256', 'ES384', 'ES512', 'PS256', 'RS256'],
			authorization_response_iss_parameter_supported: true,
			client_id_metadata_document_supported: true,
			protected_resources: [server.pdsUrl],
		});
	});
});

describe('a confidential client, start to finish', () => {
	it('runs PAR, authorization, token, getSession, createRecord, refresh and revoke', async () => {
		const client = await MiniClient.confidential(server);

		// PAR: the first proof has no nonce, so one retry
		const pending = await client.pushAuthorization({ login_hint: 'alice.test' });
		expect(pending.authorizationUrl.searchParams.get('request_uri')).toMatch(
			/^urn:ietf:params:oauth:request_uri:req-[0-9a-f]{32}$/,
		);
		expect(server.stats.par).toBe(1);
		expect(server.stats.nonceRetries.as).toBe(1);
		expect(server.stats.parRequests[0]?.params).toMatchObject({
			login_hint: 'alice.test',
			scope: 'atproto transition:generic',
		});
		expect(server.stats.parRequests[0]?.params).not.toHaveProperty('client_assertion');

		// authorization: the redirect carries iss, state and code
		const redirect = await server.authorize(pending.authorizationUrl, { did: alice.did });
		expect([...redirect.keys()]).toEqual(['iss', 'state', 'code']);
		expect(redirect.get('iss')).toBe(server.issuer);
		expect(redirect.get('state')).toBe(pending.state);
		expect(redirect.get('code')).toMatch(/^cod-[0-9a-f]{64}$/);

		// token
		const exchange = await client.exchange(pending, redirect.get('code')!);
		expect(exchange.status).toBe(200);
		expect(exchange.headers.get('cache-control')).toBe('no-store');
		const tokens = (await exchange.json()) as Tokens;
		expect(tokens).toMatchObject({
			token_type: 'DPoP',
			scope: 'atproto transition:generic',
			expires_in: 3600,
			sub: alice.did,
		});
		expect(tokens.refresh_token).toMatch(/^ref-/);
		expect(server.stats.token.authorization_code).toBe(1);

		// the PDS: the first call is challenged for a nonce, then answers
		const session = await client.resource(tokens.access_token);
		expect(session.status).toBe(200);
		expect(await session.json()).toEqual({ handle: 'alice.test', did: alice.did, active: true });
		expect(server.stats.nonceRetries.pds).toBe(1);

		const body = JSON.stringify({
			repo: alice.did,
			collection: 'app.bsky.feed.post',
			record: { text: 'hi' },
		});
		const created = await client.resource(tokens.access_token, 'com.atproto.repo.createRecord', {
			method: 'POST',
			body,
		});
		expect(created.status).toBe(200);
		expect(await created.json()).toMatchObject({
			uri: expect.stringMatching(`^at://${alice.did}/app.bsky.feed.post/`),
			echo: JSON.parse(body),
		});
		expect(server.stats.resource).toBe(2);

		// refresh: new tokens, the old access token stops working
		const refreshed = await client.refresh(tokens.refresh_token!);
		expect(refreshed.status).toBe(200);
		const next = (await refreshed.json()) as Tokens;
		expect(next.access_token).not.toBe(tokens.access_token);
		expect(next.refresh_token).not.toBe(tokens.refresh_token);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(server.stats.refreshByDid.get(alice.did)).toBe(1);
		expect((await client.resource(next.access_token)).status).toBe(200);

		// every AS and PDS request carried a proof that verified or was only challenged for a nonce
		server.assertNoRejections();
		const proofs = server.stats.requests.filter((r) => r.proof !== undefined);
		expect(proofs.every((r) => r.proof === 'valid' || r.proof === 'nonce')).toBe(true);
		expect(server.stats.verifiedProofs).toBe(proofs.filter((r) => r.proof === 'valid').length);
		expect(server.stats.verifiedAssertions).toBe(3);

		const old = await client.resource(tokens.access_token);
		expect(old.status).toBe(401);
		expect(old.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);

		// revoke the access token: the whole session ends
		const revoked = await client.post('/oauth/revoke', { token: next.access_token });
		expect(revoked.status).toBe(200);
		expect(server.stats.revoke).toBe(1);
		expect(server.stats.revokedSessions).toBe(1);
		const after = await client.resource(next.access_token);
		expect(after.status).toBe(401);
		expect(await after.json()).toMatchObject({
			error: 'invalid_token',
			message: expect.stringMatching(/revoked/),
		});
		const dead = await client.refresh(next.refresh_token!);
		expect(dead.status).toBe(400);
		expect(await dead.json()).toMatchObject({ error: 'invalid_grant' });
		expect(server.sessions(alice.did).at(-1)).toMatchObject({
			active: false,
			revokedReason: 'revoked by the client',
		});
	});

	it('fetches the JWKS from jwks_uri when the metadata has no inline keys', async () => {
		const inline = await MiniClient.confidential(server);
		const jwks = JSON.stringify(inline.metadata.jwks);
		const jwksServer = createServer((_, res) => {
			res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
		});
		await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
		try {
			const { port } = jwksServer.address() as AddressInfo;
			const { jwks: _jwks, ...rest } = inline.metadata;
			server.registerClient({ ...rest, jwks_uri: `http://127.0.0.1:${port}/jwks.json` });

			const tokens = await inline.signIn(alice.did);
			expect(tokens.sub).toBe(alice.did);
			server.assertNoRejections();
		} finally {
			jwksServer.closeAllConnections();
			await new Promise((resolve) => jwksServer.close(resolve));
		}
	});
});

describe('a loopback public client', () => {
	it('signs in without registration or assertion, with any port on the redirect URI', async () => {
		const client = await MiniClient.loopback(server);
		const pending = await client.pushAuthorization({ redirect_uri: 'http://127.0.0.1:51234/callback' });
		const redirect = await server.authorize(pending.authorizationUrl, { did: alice.did });
		const response = await client.exchange(pending, redirect.get('code')!);
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ sub: alice.did, token_type: 'DPoP' });
		expect(server.stats.verifiedAssertions).toBe(0);
		server.assertNoRejections();
	});

	// as the reference server: a silent sign-in is for clients that authenticate
	it('refuses prompt=none from a public client, and takes it from a confidential one', async () => {
		const client = await MiniClient.loopback(server);
		await expect(client.pushAuthorization({ prompt: 'none' })).rejects.toThrow(
			'PAR answered 400: Public clients are not allowed to use silent-sign-on',
		);
		const confidential = await MiniClient.confidential(server);
		await expect(confidential.pushAuthorization({ prompt: 'none' })).resolves.toMatchObject({
			state: expect.any(String),
		});
	});

	it('refuses a client assertion from a public client', async () => {
		const client = await MiniClient.loopback(server);
		const response = await client.post('/oauth/par', {
			client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
			client_assertion: 'x.y.z',
		});
		expect(response.status).toBe(401);
		expect(await response.json()).toMatchObject({ error: 'invalid_client' });
	});
});

describe('the authorization page', () => {
	it('redirects with access_denied, state and iss when the user denies', async () => {
		const client = await MiniClient.confidential(server);
		const pending = await client.pushAuthorization();
		const redirect = await server.authorize(pending.authorizationUrl, { did: alice.did, deny: true });
		expect(Object.fromEntries(redirect)).toEqual({
			iss: server.issuer,
			state: pending.state,
			error: 'access_denied',
			error_description: 'Access denied',
		});
		expect(server.stats.denied).toBe(1);
	});

	it('answers in the fragment or with a form_post page when asked', async () => {
		const client = await MiniClient.confidential(server);
		for (const mode of ['fragment', 'form_post']) {
			const pending = await client.pushAuthorization({ response_mode: mode });
			const redirect = await server.authorize(pending.authorizationUrl, { did: alice.did });
			expect(redirect.get('state')).toBe(pending.state);
			expect(redirect.get('code')).toMatch(/^cod-/);
		}
	});

	it('grants a narrower scope when the user chooses to', async () => {
		const client = await MiniClient.confidential(server);
		const pending = await client.pushAuthorization();
		const redirect = await server.authorize(pending.authorizationUrl, { did: alice.did, scope: 'atproto' });
		const tokens = (await (await client.exchange(pending, redirect.get('code')!)).json()) as Tokens;
		expect(tokens.scope).toBe('atproto');
	});

	it('refuses an authorization URL with more than client_id and request_uri, or used twice', async () => {
		const client = await MiniClient.confidential(server);
		const pending = await client.pushAuthorization();
		const url = new URL(pending.authorizationUrl);
		url.searchParams.set('state', 'x');
		await expect(server.authorize(url, { did: alice.did })).rejects.toThrow(/only client_id and request_uri/);

		await server.authorize(pending.authorizationUrl, { did: alice.did });
		await expect(server.authorize(pending.authorizationUrl, { did: alice.did })).rejects.toThrow(
			/already used/,
		);
	});
});
