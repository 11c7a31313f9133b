import type { Did } from '@atcute/lexicons';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApp, createOAuthClient, SESSION_COOKIE } from '../src/index.ts';
import {
	authorizeAt,
	browser,
	COOKIE_SECRET,
	type Harness,
	localServerOptions,
	locationOf,
	startHarness,
} from './helpers.ts';

describe('HEAD on the callback', () => {
	let harness: Harness;
	beforeAll(async () => {
		harness = await startHarness();
	});
	afterAll(async () => {
		await harness.close();
	});

	it('completes no sign-in: a HEAD (a link checker, a prefetch) neither spends the code nor sets a session', async () => {
		const user = browser(harness.app);
		const params = await authorizeAt(harness, user);
		const head = await user.request(`/oauth/callback?${params}`, { method: 'HEAD' });
		expect(head.status).toBe(405);
		expect(head.headers.getSetCookie().some((line) => line.startsWith(`${SESSION_COOKIE}=`))).toBe(false);
		expect(harness.server.sessions(harness.alice.did)).toHaveLength(0);
		// the browser's own GET then signs it in
		const callback = await user.request(`/oauth/callback?${params}`);
		expect(locationOf(callback)).toBe('/protected');
		expect((await user.request('/protected')).status).toBe(200);
	});
});

describe('loopback mode: the Host a request names (DNS rebinding)', () => {
	let server: TestOAuthServer;
	beforeAll(async () => {
		server = await startTestOAuthServer();
		server.createAccount({ handle: 'alice.test' }) as { did: Did; handle: string };
	});
	afterAll(async () => {
		await server.close();
	});

	it('serves and starts sign-ins for 127.0.0.1 (and localhost) only, not a page whose name was rebound to 127.0.0.1', async () => {
		const port = 3456;
		const oauth = await createOAuthClient({ port, ...localServerOptions(server) });
		const app = createApp({ oauth, cookieSecret: COOKIE_SECRET, loopbackOrigin: `http://127.0.0.1:${port}` });
		const foreign = `http://rebound.evil.example:${port}`;

		// a page of rebound.evil.example, once its name points at 127.0.0.1, is same-origin with
		// what it fetches there: the browser says so (Sec-Fetch-Site) and its Origin matches the Host
		const home = await app.request(`${foreign}/`);
		expect(home.status).toBe(421);
		const login = await app.request(`${foreign}/login`, {
			method: 'POST',
			body: new URLSearchParams({ handle: 'alice.test' }),
			headers: { 'sec-fetch-site': 'same-origin', origin: foreign },
		});
		expect(login.status).toBe(421);
		expect(server.stats.par).toBe(0);

		// the app's own origin still works
		const own = await app.request(`http://127.0.0.1:${port}/login`, {
			method: 'POST',
			body: new URLSearchParams({ handle: 'alice.test' }),
			headers: { 'sec-fetch-site': 'same-origin' },
		});
		expect(own.status).toBe(302);
		// and localhost is still sent to 127.0.0.1
		expect(locationOf(await app.request(`http://localhost:${port}/x`))).toBe(`http://127.0.0.1:${port}/x`);
	});
});
