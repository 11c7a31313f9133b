import { SessionNotFoundError } from '@atcute/oauth-node-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { LOGIN_COOKIE, SESSION_COOKIE } from '../src/index.ts';
import {
	authorizeAt,
	browser,
	CookieJar,
	type Harness,
	locationOf,
	PUBLIC_URL,
	postForm,
	signIn,
	startHarness,
} from './helpers.ts';

let harness: Harness;

beforeAll(async () => {
	harness = await startHarness();
});

afterAll(async () => {
	await harness.close();
});

afterEach(() => {
	harness.server.reset();
});

describe('the documented journey', () => {
	it('signs in, calls the PDS, signs out and forgets the session', async () => {
		const { app, server, alice, oauth } = harness;
		const user = browser(app);

		// the home page asks for a handle
		const home = await user.request('/');
		expect(home.status).toBe(200);
		expect(await home.text()).toContain('name="handle"');

		// the form posts to /login, which resolves the handle and sends the browser to the
		// authorization server
		const login = await postForm(user, '/login', { handle: 'alice.test' });
		expect(login.status).toBe(302);
		const authorizationUrl = new URL(locationOf(login));
		expect(authorizationUrl.origin).toBe(server.issuer);
		expect(authorizationUrl.searchParams.get('client_id')).toBe(`${PUBLIC_URL}/oauth-client-metadata.json`);
		expect(user.jar.get(LOGIN_COOKIE)).toBeDefined();

		// the user consents; the server redirects back to the callback with iss, state and code
		const params = await server.authorize(authorizationUrl, { did: alice.did });
		expect(params.get('code')).toBeTruthy();

		const callback = await user.request(`/oauth/callback?${params}`);
		expect(callback.status).toBe(302);
		expect(locationOf(callback)).toBe('/protected');
		const setCookie = callback.headers.getSetCookie().find((line) => line.startsWith(`${SESSION_COOKIE}=`));
		expect(setCookie).toBeDefined();
		expect(setCookie).toMatch(/HttpOnly/);
		expect(setCookie).toMatch(/SameSite=Lax/);
		expect(setCookie).toMatch(/Secure/);
		// over https, a __Host- cookie: only this host may set it (no Domain), for every path
		expect(setCookie).toMatch(/^__Host-session=/);
		expect(setCookie).toMatch(/Path=\/(;|$)/);
		expect(setCookie).not.toMatch(/Domain=/i);
		// a random session id (the DID stays on the server), a dot, then the HMAC
		const sessionCookie = decodeURIComponent(user.jar.get(SESSION_COOKIE)!);
		expect(sessionCookie).toMatch(/^[\w-]{32}\.[\w+/=-]+$/);
		expect(sessionCookie).not.toContain(alice.did);
		// the one-time browser binding is spent
		expect(user.jar.get(LOGIN_COOKIE)).toBeUndefined();

		// the protected page shows what the PDS says, fetched live with the session
		const resourceCallsBefore = server.stats.resource;
		const page = await user.request('/protected');
		expect(page.status).toBe(200);
		// it names the account: never cached
		expect(page.headers.get('cache-control')).toBe('no-store');
		const body = await page.text();
		expect(body).toContain('alice.test');
		expect(body).toContain(alice.did);
		expect(body).toContain(server.pdsUrl);
		expect(server.stats.resource).toBe(resourceCallsBefore + 1);

		// signed in, the home page offers the account and a sign-out button
		const signedInHome = await (await user.request('/')).text();
		expect(signedInHome).toContain('href="/protected"');
		expect(signedInHome).toContain('action="/logout"');

		// sign out: cookie cleared, tokens revoked at the server, local session deleted
		const logout = await postForm(user, '/logout');
		expect(logout.status).toBe(303);
		expect(locationOf(logout)).toBe('/');
		expect(logout.headers.getSetCookie().some((line) => line.startsWith(`${SESSION_COOKIE}=;`))).toBe(true);
		expect(user.jar.get(SESSION_COOKIE)).toBeUndefined();
		expect(server.sessions(alice.did).at(-1)?.active).toBe(false);
		await expect(oauth.restore(alice.did)).rejects.toBeInstanceOf(SessionNotFoundError);

		// and the protected page sends the browser home
		const after = await user.request('/protected');
		expect(after.status).toBe(302);
		expect(locationOf(after)).toBe('/');

		// every client assertion was checked against the keys the app serves at /jwks.json
		expect(server.stats.verifiedAssertions).toBeGreaterThan(0);
		server.assertNoRejections();
		expect(harness.errors).toEqual([]);
	});

	it('takes a handle typed with its @', async () => {
		const response = await postForm(browser(harness.app), '/login', { handle: '@alice.test' });
		expect(response.status).toBe(302);
		expect(new URL(locationOf(response)).origin).toBe(harness.server.issuer);
	});

	it('signs out a session the library keeps but cannot use (damaged in its store), and sends the user home', async () => {
		const { app, alice, sessions } = harness;
		const user = browser(app);
		expect((await signIn(harness, user)).status).toBe(302);
		const stored = sessions.get(alice.did)!;
		// damaged: without its DPoP key the client can send nothing, and keeps the session
		sessions.set(alice.did, { ...stored, dpopKey: undefined } as never);

		const response = await user.request('/protected');
		expect(response.status).toBe(302);
		expect(locationOf(response)).toBe('/');
		// signed out of the app and of the library: a new sign-in is needed, and nothing was hidden
		expect(response.headers.getSetCookie().some((line) => line.startsWith(`${SESSION_COOKIE}=;`))).toBe(true);
		expect(sessions.get(alice.did)).toBeUndefined();
		// logged twice: the damaged session, then the revocation the server could not confirm
		// (without the DPoP key no revocation can be sent: the grant lives on there until it expires)
		expect(harness.errors).toHaveLength(2);
		expect(harness.messages[1]).toMatch(
			new RegExp(`^sign-out of ${alice.did} \\(revoked\\): .*did not confirm`),
		);
		harness.errors.length = 0;
		harness.messages.length = 0;
	});

	it('redirects to the home page from /protected when nobody is signed in', async () => {
		const response = await browser(harness.app).request('/protected');
		expect(response.status).toBe(302);
		expect(locationOf(response)).toBe('/');
	});
});

describe('failures a user can meet', () => {
	it('shows a friendly page with the error code when the user denies access', async () => {
		const user = browser(harness.app);
		const params = await authorizeAt(harness, user, { deny: true });
		expect(params.get('error')).toBe('access_denied');

		const response = await user.request(`/oauth/callback?${params}`);
		expect(response.status).toBe(400);
		expect(response.headers.get('content-type')).toMatch(/text\/html/);
		const body = await response.text();
		expect(body).toContain('access_denied');
		expect(body).toContain('nothing was shared with this app');
		expect(body).not.toMatch(/at .*\.ts:\d+/);
		expect(user.jar.get(SESSION_COOKIE)).toBeUndefined();
	});

	it('answers 400 naming an unknown handle', async () => {
		const response = await postForm(browser(harness.app), '/login', { handle: 'nobody.test' });
		expect(response.status).toBe(400);
		const body = await response.text();
		expect(body).toContain('nobody.test');
		expect(body).toContain('unknown_handle');
		expect(harness.server.stats.par).toBe(0);
	});

	it('answers 400 when no handle is given', async () => {
		const response = await postForm(browser(harness.app), '/login');
		expect(response.status).toBe(400);
		expect(await response.text()).toContain('enter your handle');
	});

	it('escapes a handle with markup in it', async () => {
		const response = await postForm(browser(harness.app), '/login', {
			handle: '<img src=x onerror=alert(1)>.test',
		});
		expect(response.status).toBe(400);
		const body = await response.text();
		expect(body).toContain('&lt;img src=x onerror=alert(1)&gt;.test');
		expect(body).not.toContain('<img');
		expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
	});

	it('refuses a callback replayed after it was used', async () => {
		const user = browser(harness.app);
		const params = await authorizeAt(harness, user);
		const jar = new CookieJar();
		jar.set(LOGIN_COOKIE, user.jar.get(LOGIN_COOKIE)!);
		expect((await user.request(`/oauth/callback?${params}`)).status).toBe(302);

		const replay = await browser(harness.app, jar).request(`/oauth/callback?${params}`);
		expect(replay.status).toBe(400);
		expect(await replay.text()).toContain('invalid_state');
		await harness.oauth.revoke(harness.alice.did);
	});

	it('sends a browser that reloads the callback that signed it in home, still signed in', async () => {
		const user = browser(harness.app);
		const params = await authorizeAt(harness, user);
		expect((await user.request(`/oauth/callback?${params}`)).status).toBe(302);

		const reload = await user.request(`/oauth/callback?${params}`);
		expect(reload.status).toBe(302);
		expect(locationOf(reload)).toBe('/');
		expect((await user.request('/protected')).status).toBe(200);

		// another sign-in's used-up callback (a second account's, which failed) is not this one:
		// a failure shows (this browser did not start it), rather than home with the first account
		// as if it had worked
		const other = await authorizeAt(harness, browser(harness.app));
		await harness.oauth.callback(other);
		const stranger = await user.request(`/oauth/callback?${other}`);
		expect(stranger.status).toBe(400);
		expect(await stranger.text()).toContain('browser_mismatch');
		await harness.oauth.revoke(harness.alice.did);
	});

	it('does not sign in a browser that did not start the sign-in (login CSRF)', async () => {
		const { app, server, alice } = harness;
		// the account is signed in on another device
		const laptop = browser(app);
		expect((await signIn(harness, laptop)).status).toBe(302);
		// the attacker starts a sign-in with their own browser ...
		const attacker = browser(app);
		const params = await authorizeAt(harness, attacker);
		// ... and gets the victim's browser to open the callback link
		const victim = browser(app);
		const response = await victim.request(`/oauth/callback?${params}`);
		expect(response.status).toBe(400);
		expect(await response.text()).toContain('browser_mismatch');
		expect(victim.jar.get(SESSION_COOKIE)).toBeUndefined();
		expect((await victim.request('/protected')).status).toBe(302);
		// the account's own sessions are left alone: no sign-out, the other device still works
		expect(server.sessions(alice.did).at(-1)?.active).toBe(true);
		expect((await laptop.request('/protected')).status).toBe(200);
		await harness.oauth.revoke(alice.did);
	});

	it('ignores a tampered session cookie', async () => {
		const { app, alice } = harness;
		const user = browser(app);
		expect((await signIn(harness, user)).status).toBe(302);

		// another session id with alice's signature
		const signed = decodeURIComponent(user.jar.get(SESSION_COOKIE)!);
		const [id = '', signature = ''] = signed.split('.');
		const forged = new CookieJar();
		const otherId = `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`;
		forged.set(SESSION_COOKIE, encodeURIComponent(`${otherId}.${signature}`));
		const forgedPage = await browser(app, forged).request('/protected');
		expect(forgedPage.status).toBe(302);
		expect(locationOf(forgedPage)).toBe('/');
		expect(forgedPage.headers.getSetCookie().some((line) => line.startsWith(`${SESSION_COOKIE}=;`))).toBe(
			true,
		);

		// alice's session id unsigned or signed with another secret, her DID, her DID signed as
		// the app once did
		for (const value of [
			id,
			encodeURIComponent(`${id}.${'A'.repeat(43)}=`),
			alice.did,
			encodeURIComponent(`${alice.did}.${signature}`),
		]) {
			const jar = new CookieJar();
			jar.set(SESSION_COOKIE, value);
			const home = await browser(app, jar).request('/');
			expect(await home.text()).toContain('name="handle"');
			const page = await browser(app, jar).request('/protected');
			expect(locationOf(page)).toBe('/');
		}

		// the real cookie still works
		expect((await user.request('/protected')).status).toBe(200);
		await postForm(user, '/logout');
	});

	it('clears the cookie and sends the user home when the server ended the session', async () => {
		const { app, server, alice } = harness;
		const user = browser(app);
		expect((await signIn(harness, user)).status).toBe(302);

		// revoked server-side: the PDS refuses the token, the refresh is refused, the session ends
		server.revokeAllTokensFor(alice.did);
		const response = await user.request('/protected');
		expect(response.status).toBe(302);
		expect(locationOf(response)).toBe('/');
		expect(user.jar.get(SESSION_COOKIE)).toBeUndefined();
		await expect(harness.oauth.restore(alice.did)).rejects.toBeInstanceOf(SessionNotFoundError);
	});

	it('keeps the session and answers 503 when the PDS cannot be reached for a moment', async () => {
		const { app, server, alice } = harness;
		const user = browser(app);
		expect((await signIn(harness, user)).status).toBe(302);

		server.expireAccessTokens(alice.did);
		server.behaviour.refreshFailure = 'status_503';
		const response = await user.request('/protected');
		expect(response.status).toBe(503);
		expect(await response.text()).toContain('try again');
		expect(user.jar.get(SESSION_COOKIE)).toBeDefined();

		server.behaviour.refreshFailure = undefined;
		expect((await user.request('/protected')).status).toBe(200);
		await postForm(user, '/logout');
	});

	it("passes the authorization server's Retry-After on to the browser, and keeps the session", async () => {
		const { app, server, alice } = harness;
		const user = browser(app);
		expect((await signIn(harness, user)).status).toBe(302);

		server.expireAccessTokens(alice.did);
		// a 503 without Retry-After says nothing of when
		server.behaviour.refreshFailure = 'status_503';
		const unsaid = await user.request('/protected');
		expect(unsaid.status).toBe(503);
		expect(unsaid.headers.get('retry-after')).toBeNull();
		// the test server's 429 carries Retry-After: 1
		server.behaviour.refreshFailure = 'status_429';
		const response = await user.request('/protected');
		expect(response.status).toBe(503);
		expect(response.headers.get('retry-after')).toBe('1');
		expect(await response.text()).toContain('asked to wait 1 s');
		expect(user.jar.get(SESSION_COOKIE)).toBeDefined();
		await postForm(user, '/logout');
	});

	it('answers 404 with a page for an unknown path', async () => {
		const response = await browser(harness.app).request('/nope/<x>');
		expect(response.status).toBe(404);
		expect(await response.text()).not.toContain('<x>');
	});
});
