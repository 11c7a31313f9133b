// what the app keeps when something fails for a moment: a DID directory that refuses once, a
// session store that cannot delete. nothing that cannot be undone is done on one such failure.

import { MemoryStore } from '@atcute/oauth-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppSession } from '../src/index.ts';

import { SESSION_COOKIE } from '../src/index.ts';
import { browser, CookieJar, type Harness, postForm, signIn, startHarness } from './helpers.ts';

let harness: Harness;
const flags = { plcRefuses: false, deleteFails: false };

/** an app session store whose deletes fail while `flags.deleteFails` is set (a database away). */
class FlakyStore extends MemoryStore<string, AppSession> {
	override delete(key: string): void {
		if (flags.deleteFails) throw new Error('database unavailable');
		super.delete(key);
	}
}

beforeAll(async () => {
	harness = await startHarness({
		appSessions: new FlakyStore(),
		wrapFetch: (fetch, server) => {
			const plc = new URL(server.plcUrl).host;
			return (input, init) => {
				const url = new URL(input instanceof Request ? input.url : String(input));
				// a CDN or firewall in front of the DID directory, refusing for a moment
				if (flags.plcRefuses && url.host === plc)
					return Promise.resolve(new Response('blocked', { status: 403 }));
				return fetch(input, init);
			};
		},
	});
});

afterAll(() => harness.close());

describe('the app, when something fails for a moment', () => {
	it("keeps the grant and every browser's session when the DID directory refuses one refresh's check", async () => {
		const { app, server, alice } = harness;
		const laptop = browser(app);
		const phone = browser(app);
		expect((await signIn(harness, laptop)).status).toBe(302);
		expect((await signIn(harness, phone)).status).toBe(302);

		// the refresh checks the account's identity first: its DID document is refused once
		server.expireAccessTokens(alice.did);
		flags.plcRefuses = true;
		const during = await laptop.request('/protected');
		flags.plcRefuses = false;
		expect(during.status).toBe(503);
		// a 403 from the directory reads as permanent to the library: the page offers a way out
		expect(await during.text()).toContain('if this lasts, sign out and sign in again');
		expect(laptop.jar.get(SESSION_COOKIE)).toBeDefined();
		expect(server.sessions(alice.did).at(-1)?.active).toBe(true);

		// the directory answers again: both browsers carry on
		expect((await laptop.request('/protected')).status).toBe(200);
		expect((await phone.request('/protected')).status).toBe(200);
		await postForm(laptop, '/logout');
	});

	it('revokes the grant at sign-out even when the app cannot delete its own session, and keeps the cookie to try again', async () => {
		const { app, server, alice } = harness;
		const user = browser(app);
		expect((await signIn(harness, user)).status).toBe(302);
		const cookie = user.jar.get(SESSION_COOKIE)!;

		flags.deleteFails = true;
		const failed = await postForm(user, '/logout');
		flags.deleteFails = false;
		expect(failed.status).toBe(500);
		// the tokens are over at the server, whatever the app's store did
		expect(server.sessions(alice.did).at(-1)?.active).toBe(false);
		// the browser was not told it is signed out while its session lives on server-side
		expect(user.jar.get(SESSION_COOKIE)).toBe(cookie);

		// the store is back: signing out again ends it, and a copy of the cookie signs no one in
		expect((await postForm(user, '/logout')).status).toBe(303);
		expect(user.jar.get(SESSION_COOKIE)).toBeUndefined();
		const copy = new CookieJar();
		copy.set(SESSION_COOKIE, cookie);
		expect((await browser(app, copy).request('/protected')).status).toBe(302);
	});

	it("sends a referrer only to the app's own origin, so its own form posts carry their Origin", async () => {
		const response = await browser(harness.app).request('/');
		expect(response.headers.get('referrer-policy')).toBe('same-origin');
	});
});
