import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { MemoryStore } from '@atcute/oauth-node-client';
import { Hono } from 'hono';
import { setSignedCookie } from 'hono/cookie';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { safeReturnTo } from '../src/app.ts';
import {
	createActorResolver,
	createApp,
	createOAuthClient,
	FORM_BODY_LIMIT,
	LOGIN_COOKIE,
	SESSION_COOKIE,
	startServer,
} from '../src/index.ts';
import {
	authorizeAt,
	browser,
	COOKIE_SECRET,
	CookieJar,
	CROSS_SITE,
	generatePrivateKeyJwk,
	type Harness,
	locationOf,
	PUBLIC_URL,
	postForm,
	SAME_ORIGIN,
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
	vi.useRealTimers();
	harness.server.reset();
});

/** a GET over real HTTP to 127.0.0.1:port with the Host header a browser would send. */
const getWithHost = (port: number, host: string, path: string) => {
	return new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
		const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
			res.resume();
			resolve({ status: res.statusCode ?? 0, location: res.headers.location });
		});
		req.on('error', reject);
		req.end();
	});
};

describe('the localhost → 127.0.0.1 redirect (loopback mode)', () => {
	it('stays on 127.0.0.1 whatever the path looks like', async () => {
		const running = await startServer({ port: 0, cookieSecret: COOKIE_SECRET, log: () => {} });
		try {
			const home = `http://127.0.0.1:${running.port}`;
			const host = `localhost:${running.port}`;
			// the same path, on 127.0.0.1
			const response = await getWithHost(running.port, host, '//evil.example/phish');
			expect(response).toEqual({ status: 302, location: `${home}//evil.example/phish` });

			const answers: Record<string, number> = {};
			for (const path of [
				'//evil.example',
				'/\\evil.example/phish',
				'/%2F%2Fevil.example',
				'//evil.example:80/?x=1',
			]) {
				const { status, location } = await getWithHost(running.port, host, path);
				answers[path] = status;
				// where a browser would go, if anywhere: a redirect stays on the app's origin, and
				// node:http refuses the backslash with a 400 before the app sees it
				if (status === 302) expect(new URL(location!, `http://${host}/`).origin, path).toBe(home);
			}
			// every path answered, and the three node:http takes were redirected (and checked above)
			expect(answers).toMatchObject({
				'//evil.example': 302,
				'/%2F%2Fevil.example': 302,
				'//evil.example:80/?x=1': 302,
			});
			expect([302, 400]).toContain(answers['/\\evil.example/phish']);
		} finally {
			await running.close();
		}
	});
});

describe('login CSRF: only the app’s own form starts a sign-in', () => {
	it('starts no sign-in from a link or a cross-site navigation (GET)', async () => {
		const victim = browser(harness.app);
		const response = await victim.request('/login?handle=alice.test', {
			headers: { 'sec-fetch-site': 'cross-site' },
		});
		expect(response.status).toBe(404);
		expect(victim.jar.get(LOGIN_COOKIE)).toBeUndefined();
		expect(harness.server.stats.par).toBe(0);
	});

	it('refuses a form posted from another site, by Sec-Fetch-Site or by Origin', async () => {
		for (const headers of [
			CROSS_SITE,
			{ 'sec-fetch-site': 'same-site' },
			{ origin: 'https://evil.example' },
		]) {
			const victim = browser(harness.app);
			const response = await postForm(victim, '/login', { handle: 'alice.test' }, headers);
			expect(response.status, JSON.stringify(headers)).toBe(403);
			expect(await response.text()).toContain('cross_site_request');
			expect(victim.jar.get(LOGIN_COOKIE)).toBeUndefined();
		}
		expect(harness.server.stats.par).toBe(0);
	});

	it('accepts the form posted from the app’s own pages, and a client that is no browser', async () => {
		for (const headers of [{ 'sec-fetch-site': 'same-origin' }, { origin: PUBLIC_URL }, {}]) {
			const user = browser(harness.app);
			const response = await postForm(user, '/login', { handle: 'alice.test' }, headers);
			expect(response.status, JSON.stringify(headers)).toBe(302);
			expect(new URL(locationOf(response)).origin).toBe(harness.server.issuer);
			expect(user.jar.get(LOGIN_COOKIE)).toBeDefined();
		}
	});

	it('refuses a sign-out posted from another site', async () => {
		const user = browser(harness.app);
		expect((await signIn(harness, user)).status).toBe(302);
		const response = await postForm(user, '/logout', {}, CROSS_SITE);
		expect(response.status).toBe(403);
		// still signed in, and the tokens were not revoked
		expect((await user.request('/protected')).status).toBe(200);
		expect(harness.server.sessions(harness.alice.did).at(-1)?.active).toBe(true);
		expect((await postForm(user, '/logout')).status).toBe(303);
	});
});

describe('the session cookie', () => {
	it('is a fresh random id at every sign-in, not the DID', async () => {
		const first = browser(harness.app);
		const second = browser(harness.app);
		await signIn(harness, first);
		await signIn(harness, second);
		const one = first.jar.get(SESSION_COOKIE)!;
		const two = second.jar.get(SESSION_COOKIE)!;
		expect(one).not.toBe(two);
		expect(decodeURIComponent(one)).not.toContain(harness.alice.did);
		expect((await first.request('/protected')).status).toBe(200);
		expect((await second.request('/protected')).status).toBe(200);
		await postForm(first, '/logout');
	});

	it('is worthless once signed out, even after the account signs in again', async () => {
		const user = browser(harness.app);
		await signIn(harness, user);
		const stolen = user.jar.get(SESSION_COOKIE)!;
		expect((await postForm(user, '/logout')).status).toBe(303);

		const attacker = new CookieJar();
		attacker.set(SESSION_COOKIE, stolen);
		const replay = await browser(harness.app, attacker).request('/protected');
		expect(locationOf(replay)).toBe('/');

		// alice signs in again (another browser): the old cookie still names no one
		await signIn(harness, browser(harness.app));
		attacker.set(SESSION_COOKIE, stolen);
		expect(locationOf(await browser(harness.app, attacker).request('/protected'))).toBe('/');
		expect(await (await browser(harness.app, attacker).request('/')).text()).toContain('name="handle"');
	});

	it("ends in every browser at a sign-out, and the account's next sign-in elsewhere does not bring it back", async () => {
		// alice is signed in at home and on a shared computer, and signs out at home
		const home = browser(harness.app);
		const shared = browser(harness.app);
		await signIn(harness, home);
		await signIn(harness, shared);
		expect((await shared.request('/protected')).status).toBe(200);
		expect((await postForm(home, '/logout')).status).toBe(303);

		expect(await (await shared.request('/')).text()).toContain('name="handle"');
		// she signs in again on her phone: the shared computer stays signed out
		const phone = browser(harness.app);
		await signIn(harness, phone);
		expect((await phone.request('/protected')).status).toBe(200);
		expect(locationOf(await shared.request('/protected'))).toBe('/');
		await postForm(phone, '/logout');
	});

	it('keeps the sign-out record from a cookie that names it, signed with a leaked secret', async () => {
		// alice signs out at home while a stolen laptop holds her session, then signs in on her phone
		const laptop = browser(harness.app);
		const home = browser(harness.app);
		await signIn(harness, laptop);
		await signIn(harness, home);
		expect((await postForm(home, '/logout')).status).toBe(303);
		const phone = browser(harness.app);
		await signIn(harness, phone);

		// someone with COOKIE_SECRET, but no session id, names the account's sign-out record
		const signer = new Hono();
		signer.get('/', async (c) => {
			// hono signs the value alone: signed under any name, it is good under the session's
			await setSignedCookie(c, 'x', `signed-out:${harness.alice.did}`, COOKIE_SECRET);
			return c.body(null);
		});
		const cookie = /^[^=]+=([^;]*)/.exec((await signer.request('/')).headers.get('set-cookie') ?? '')![1]!;
		const forged = new CookieJar();
		forged.set(SESSION_COOKIE, cookie);
		expect(await (await browser(harness.app, forged).request('/')).text()).toContain('name="handle"');

		// the record stands: the laptop stays signed out
		expect(locationOf(await laptop.request('/protected'))).toBe('/');
		await postForm(phone, '/logout');
	});

	it('stays signed out in every browser for as long as a session there could last', async () => {
		// its own app, whose session store reads the clock the test moves (the shared harness's
		// store took the real Date.now when it was made)
		const own = await startHarness({ appSessions: new MemoryStore({ now: () => Date.now() }) });
		try {
			const home = browser(own.app);
			const shared = browser(own.app);
			await signIn(own, home);
			await signIn(own, shared);
			expect((await postForm(home, '/logout')).status).toBe(303);
			const phone = browser(own.app);
			await signIn(own, phone);

			const start = Date.now();
			vi.useFakeTimers({ toFake: ['Date'] });
			// 29 days on, the shared computer's session (good for 30) is still ended by the sign-out,
			// whose record must last as long; the phone, signed in after it, still is signed in
			vi.setSystemTime(start + 29 * 24 * 60 * 60 * 1000);
			expect(locationOf(await shared.request('/protected'))).toBe('/');
			expect((await phone.request('/protected')).status).toBe(200);
		} finally {
			vi.useRealTimers();
			await own.close();
		}
	});

	it('is replaced at sign-in: one the browser already held is not signed in (session fixation)', async () => {
		const user = browser(harness.app);
		await signIn(harness, user);
		const before = user.jar.get(SESSION_COOKIE)!;
		await signIn(harness, user);
		const after = user.jar.get(SESSION_COOKIE)!;
		expect(after).not.toBe(before);
		const planted = new CookieJar();
		planted.set(SESSION_COOKIE, before);
		expect(locationOf(await browser(harness.app, planted).request('/protected'))).toBe('/');
		expect((await user.request('/protected')).status).toBe(200);
		await postForm(user, '/logout');
	});

	it('expires after 30 days on the server, whatever the browser keeps', async () => {
		const user = browser(harness.app);
		await signIn(harness, user);
		const start = Date.now();
		const day = 24 * 60 * 60 * 1000;
		vi.useFakeTimers({ toFake: ['Date'] });
		// still signed in on day 29: the limit is the 30 days, not something shorter
		vi.setSystemTime(start + 29 * day);
		expect((await user.request('/protected')).status).toBe(200);
		vi.setSystemTime(start + 31 * day);
		expect(locationOf(await user.request('/protected'))).toBe('/');
	});
});

describe('identity resolution (SSRF)', () => {
	let trap: Server;
	let trapPort: number;
	let connections = 0;

	beforeAll(async () => {
		// a server on loopback that only counts who connects to it
		trap = createServer((socket) => {
			connections++;
			socket.destroy();
		});
		await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
		trapPort = (trap.address() as AddressInfo).port;
	});

	afterAll(async () => {
		await new Promise((resolve) => trap.close(resolve));
	});

	it('does not let a visitor make the server connect to a private address (did:web)', async () => {
		const oauth = await createOAuthClient({
			publicUrl: PUBLIC_URL,
			privateKeyJwk: await generatePrivateKeyJwk(),
		});
		const app = createApp({ oauth, cookieSecret: COOKIE_SECRET, publicUrl: PUBLIC_URL, logError: () => {} });
		connections = 0;
		const response = await postForm(browser(app), '/login', { handle: `did:web:localhost%3A${trapPort}` });
		// refused before connecting: a did:web on localhost (or any port, or an IP address) is no
		// atproto DID outside testing, so the visitor is told it is not a handle
		expect(connections).toBe(0);
		expect(response.status).toBe(400);
		expect(await response.text()).toContain('invalid_handle');
	});

	it('guards createActorResolver’s own default transport too', async () => {
		connections = 0;
		await expect(createActorResolver().resolve(`did:web:127.0.0.1%3A${trapPort}`)).rejects.toThrow();
		expect(connections).toBe(0);
	});
});

describe('safeReturnTo', () => {
	it('keeps a path on this site', () => {
		expect(safeReturnTo('/protected')).toBe('/protected');
		expect(safeReturnTo('/a/b?c=d#e')).toBe('/a/b?c=d#e');
	});

	it('refuses anything a browser would read as another site', () => {
		for (const value of [
			'//evil.example',
			'/\\evil.example',
			'/\t/evil.example',
			'/\n/evil.example',
			'/\r\n/evil.example',
			'\t//evil.example',
			'/\\\tevil.example',
			' //evil.example',
			'https://evil.example/',
			'javascript:alert(1)',
			'',
			undefined,
			42,
		]) {
			expect(safeReturnTo(value), JSON.stringify(value)).toBe('/');
		}
	});
});

describe('what anyone may post, signed in or not', () => {
	it('refuses a form body past FORM_BODY_LIMIT before reading it, and starts no sign-in', async () => {
		const user = browser(harness.app);
		const handle = `${'a'.repeat(FORM_BODY_LIMIT)}.test`;
		const response = await postForm(user, '/login', { handle });
		expect(response.status).toBe(413);
		const body = await response.text();
		expect(body).toContain('form_too_large');
		expect(body).not.toContain(handle);
		expect(harness.server.stats.par).toBe(0);
		// a body without Content-Length, streamed, is cut off too
		const streamed = await user.request('/login', {
			method: 'POST',
			headers: { ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
			body: new ReadableStream({
				start(controller) {
					for (let i = 0; i < 64; i++)
						controller.enqueue(new TextEncoder().encode(`handle=${'a'.repeat(1024)}`));
					controller.close();
				},
			}),
			duplex: 'half',
		} as RequestInit);
		expect(streamed.status).toBe(413);
		expect((await postForm(user, '/logout', { filler: 'x'.repeat(FORM_BODY_LIMIT) })).status).toBe(413);
	});

	it('repeats a long identifier that is no handle cut short', async () => {
		const user = browser(harness.app);
		const identifier = `${'b'.repeat(1000)} c`;
		const response = await postForm(user, '/login', { handle: identifier });
		expect(response.status).toBe(400);
		const body = await response.text();
		expect(body).toContain('invalid_handle');
		expect(body).toContain(`${'b'.repeat(256)}…`);
		expect(body).not.toContain('b'.repeat(257));
	});

	it('repeats a long DID that does not resolve cut short too', async () => {
		const user = browser(harness.app);
		// a DID passes the syntax check at any length; the resolver then refuses it
		const response = await postForm(user, '/login', { handle: `did:web:${'d'.repeat(2000)}.example` });
		expect(response.status).toBeGreaterThanOrEqual(400);
		const body = await response.text();
		expect(body).toContain(`did:web:${'d'.repeat(248)}…`);
		expect(body).not.toContain('d'.repeat(249));
	});

	it('repeats at most 64 characters of an unknown path, so a link cannot put its text on the page', async () => {
		const text = 'Your session has expired. Sign in again at evil.example or call 555-0100 to restore it';
		const response = await browser(harness.app).request(`/${encodeURIComponent(text)}`);
		expect(response.status).toBe(404);
		const body = await response.text();
		expect(body).toContain('Your session has expired');
		expect(body).not.toContain('555-0100');
	});

	it('answers a form it cannot read with a 400, not an error it logs', async () => {
		const user = browser(harness.app);
		const errorsBefore = harness.errors.length;
		for (const contentType of ['multipart/form-data; boundary=xyz', 'multipart/form-data']) {
			const response = await user.request('/login', {
				method: 'POST',
				headers: { ...SAME_ORIGIN, 'content-type': contentType },
				body: 'not a multipart body at all',
			});
			expect(response.status, contentType).toBe(400);
			expect(await response.text()).toContain('invalid_form');
		}
		expect(harness.errors.length).toBe(errorsBefore);
		expect(harness.server.stats.par).toBe(0);
	});
});

describe('sign-ins under way in one browser', () => {
	it('are not cancelled by a stray or forged callback', async () => {
		const user = browser(harness.app);
		const params = await authorizeAt(harness, user);
		// another site links the browser to the callback: no state, an unknown one, a denial
		for (const stray of ['error=access_denied', 'state=unknown&code=x', 'iss=x']) {
			expect((await user.request(`/oauth/callback?${stray}`)).status, stray).toBe(400);
		}
		// a sign-in someone else started, opened in this browser: refused, and ours is kept
		const attacker = browser(harness.app);
		const foreign = await user.request(`/oauth/callback?${await authorizeAt(harness, attacker)}`);
		expect(await foreign.text()).toContain('browser_mismatch');
		const response = await user.request(`/oauth/callback?${params}`);
		expect(response.status).toBe(302);
		expect(locationOf(response)).toBe('/protected');
		expect((await user.request('/protected')).status).toBe(200);
		// done: no binding is left behind
		expect(user.jar.get(LOGIN_COOKIE)).toBeUndefined();
	});

	it('each complete, in either order, when started in two tabs', async () => {
		const user = browser(harness.app);
		const first = await authorizeAt(harness, user);
		const second = await authorizeAt(harness, user);
		expect((await user.request(`/oauth/callback?${first}`)).status).toBe(302);
		// the second tab's sign-in still completes after the first one's
		expect(user.jar.get(LOGIN_COOKIE)).toBeDefined();
		expect((await user.request(`/oauth/callback?${second}`)).status).toBe(302);
		expect((await user.request('/protected')).status).toBe(200);
		expect(user.jar.get(LOGIN_COOKIE)).toBeUndefined();
	});

	it('keep the last four tabs’ bindings, no more', async () => {
		const user = browser(harness.app);
		const tabs = [];
		for (let i = 0; i < 5; i++) tabs.push(await authorizeAt(harness, user));
		// the oldest was dropped to keep the cookie small
		expect(await (await user.request(`/oauth/callback?${tabs[0]}`)).text()).toContain('browser_mismatch');
		expect((await user.request(`/oauth/callback?${tabs[4]}`)).status).toBe(302);
	});
});
