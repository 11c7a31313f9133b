import type { Did } from '@atcute/lexicons';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
	clientMode,
	createApp,
	createOAuthClient,
	LOOPBACK_SESSION_COOKIE,
	startServer,
} from '../src/index.ts';
import {
	COOKIE_SECRET,
	CookieJar,
	generatePrivateKeyJwk,
	localServerOptions,
	PUBLIC_URL,
} from './helpers.ts';

let server: TestOAuthServer;
let alice: { did: Did; handle: string };

beforeAll(async () => {
	server = await startTestOAuthServer();
	alice = server.createAccount({ handle: 'alice.test' }) as { did: Did; handle: string };
});

afterAll(async () => {
	await server.close();
});

describe('loopback mode (no PUBLIC_URL)', () => {
	it('builds a loopback public client: no key, no client_id of its own, a 127.0.0.1 redirect', async () => {
		const oauth = await createOAuthClient({ port: 4567 });
		expect(clientMode(oauth)).toBe('loopback');
		expect(oauth.keyset).toBeUndefined();
		expect(oauth.jwks).toBeUndefined();
		expect(oauth.metadata).toMatchObject({
			redirect_uris: ['http://127.0.0.1:4567/oauth/callback'],
			token_endpoint_auth_method: 'none',
			application_type: 'native',
		});
		const clientId = new URL(oauth.metadata.client_id);
		expect(clientId.origin).toBe('http://localhost');
		expect(clientId.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:4567/oauth/callback');
		expect(clientId.searchParams.get('scope')).toBe('atproto transition:generic');
	});

	it('serves the metadata and no JWKS', async () => {
		const oauth = await createOAuthClient({});
		const app = createApp({ oauth, cookieSecret: COOKIE_SECRET });
		const metadata = await (await app.request('/oauth-client-metadata.json')).json();
		expect(metadata).toEqual(oauth.metadata);
		expect((await app.request('/jwks.json')).status).toBe(404);
	});

	it('serves a whole sign-in over real HTTP on 127.0.0.1', async () => {
		const lines: string[] = [];
		const warnings: string[] = [];
		const running = await startServer({
			port: 0,
			cookieSecret: COOKIE_SECRET,
			...localServerOptions(server),
			log: (line) => lines.push(line),
			warn: (line) => warnings.push(line),
		});
		try {
			expect(running.mode).toBe('loopback');
			expect(running.url).toBe(`http://127.0.0.1:${running.port}/`);
			expect(lines.join('\n')).toMatch(/mode: loopback client/);
			expect(lines).toContain(`open ${running.url}`);
			expect(running.oauth.metadata.redirect_uris).toEqual([
				`http://127.0.0.1:${running.port}/oauth/callback`,
			]);

			const jar = new CookieJar();
			const get = async (path: string, init: RequestInit = {}): Promise<Response> => {
				const response = await fetch(new URL(path, running.url), {
					...init,
					redirect: 'manual',
					headers: { ...init.headers, cookie: jar.header(new URL(path, running.url).pathname) },
				});
				jar.store(response);
				return response;
			};

			expect((await get('/')).status).toBe(200);
			// the form on the page, as a browser posts it: from the app's own origin
			const login = await get('/login', {
				method: 'POST',
				body: new URLSearchParams({ handle: 'alice.test' }),
				headers: { origin: `http://127.0.0.1:${running.port}` },
			});
			expect(login.status).toBe(302);
			const params = await server.authorize(login.headers.get('location')!, { did: alice.did });
			const callback = await get(`/oauth/callback?${params}`);
			expect(callback.status).toBe(302);
			expect(callback.headers.get('location')).toBe('/protected');
			// plain http on 127.0.0.1: the cookie cannot be Secure
			expect(
				callback.headers.getSetCookie().find((line) => line.startsWith(`${LOOPBACK_SESSION_COOKIE}=`)),
			).not.toMatch(/Secure/);
			const page = await get('/protected');
			expect(page.status).toBe(200);
			expect(await page.text()).toContain('alice.test');
			server.assertNoRejections();
		} finally {
			await running.close();
		}
	});

	it('sends visitors who came through localhost to 127.0.0.1, where the redirect lands', async () => {
		const running = await startServer({ port: 0, cookieSecret: COOKIE_SECRET, log: () => {} });
		try {
			const response = await running.app.request(`http://localhost:${running.port}/protected?x=1`);
			expect(response.status).toBe(302);
			expect(response.headers.get('location')).toBe(`http://127.0.0.1:${running.port}/protected?x=1`);
		} finally {
			await running.close();
		}
	});

	it('refuses a short COOKIE_SECRET before listening', async () => {
		await expect(startServer({ port: 0, cookieSecret: 'short', log: () => {} })).rejects.toThrow(
			/COOKIE_SECRET must be 32 characters/,
		);
	});

	it('listens only on 127.0.0.1', async () => {
		await expect(startServer({ port: 0, hostname: '0.0.0.0', log: () => {} })).rejects.toThrow(
			/127\.0\.0\.1/,
		);
	});

	it('warns when the cookie secret is random and the key is unused', async () => {
		const warnings: string[] = [];
		const running = await startServer({
			port: 0,
			privateKeyJwk: await generatePrivateKeyJwk(),
			log: () => {},
			warn: (line) => warnings.push(line),
		});
		await running.close();
		expect(warnings.join('\n')).toMatch(/COOKIE_SECRET is not set/);
		expect(warnings.join('\n')).toMatch(/PRIVATE_KEY_JWK is not used in loopback mode/);
	});
});

describe('startServer as a confidential client', () => {
	it('serves the metadata over HTTP and says which mode is on', async () => {
		const lines: string[] = [];
		const running = await startServer({
			port: 0,
			publicUrl: PUBLIC_URL,
			privateKeyJwk: await generatePrivateKeyJwk(),
			cookieSecret: COOKIE_SECRET,
			log: (line) => lines.push(line),
		});
		try {
			expect(running.mode).toBe('confidential');
			expect(running.url).toBe(`${PUBLIC_URL}/`);
			expect(lines.join('\n')).toContain(
				`mode: confidential client (private_key_jwt), client_id ${PUBLIC_URL}/oauth-client-metadata.json`,
			);
			const response = await fetch(`${running.listenUrl}/oauth-client-metadata.json`);
			expect(await response.json()).toEqual(running.oauth.metadata);
			const jwks = await (await fetch(`${running.listenUrl}/jwks.json`)).json();
			expect(jwks).toEqual(running.oauth.jwks);
		} finally {
			await running.close();
		}
	});

	it('fails with the key error when the key is bad', async () => {
		const lines: string[] = [];
		await expect(
			startServer({
				port: 0,
				publicUrl: PUBLIC_URL,
				privateKeyJwk: '{"kty":"EC"}',
				cookieSecret: COOKIE_SECRET,
				log: (line) => lines.push(line),
			}),
		).rejects.toMatchObject({
			name: 'InvalidKeyError',
			// the startup line shows the message alone: it names the variable to fix
			message: expect.stringMatching(/^PRIVATE_KEY_JWK is not a usable private key \(.+\)/),
			cause: expect.objectContaining({ name: 'InvalidKeyError' }),
		});
		expect(lines.join('\n')).not.toMatch(/listening/);
	});
});
