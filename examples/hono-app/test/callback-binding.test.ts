import { OAuthCallbackError } from '@atcute/oauth-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { callbackFailurePage } from '../src/failure-pages.ts';
import { authorizeAt, browser, type Harness, locationOf, startHarness } from './helpers.ts';

let harness: Harness;

beforeAll(async () => {
	harness = await startHarness();
});

afterAll(async () => {
	await harness?.close();
});

describe('a callback opened in a browser that did not start the sign-in', () => {
	it('is refused before the code is exchanged: nothing is signed in or stored for it', async () => {
		const user = browser(harness.app);
		const params = await authorizeAt(harness, user);
		const exchangedBefore = harness.server.stats.token.authorization_code;
		await harness.sessions.delete(harness.alice.did);
		// the callback URL reaches another browser (a leaked link, a forged one sent to a victim)
		const other = browser(harness.app);
		const refused = await other.request(`/oauth/callback?${params}`);
		expect(refused.status).toBe(400);
		expect(await refused.text()).toContain('browser_mismatch');
		expect(harness.server.stats.token.authorization_code).toBe(exchangedBefore);
		expect(await harness.sessions.get(harness.alice.did)).toBeUndefined();
	});

	it('leaves the sign-in to the browser that started it, which still completes it', async () => {
		const user = browser(harness.app);
		const params = await authorizeAt(harness, user);
		await browser(harness.app).request(`/oauth/callback?${params}`);
		const response = await user.request(`/oauth/callback?${params}`);
		expect(response.status).toBe(302);
		expect(locationOf(response)).toBe('/protected');
		expect((await user.request('/protected')).status).toBe(200);
	});
});

describe('the callback failure page', () => {
	it('says a plain sentence for an error code named like an Object.prototype member', () => {
		for (const code of ['constructor', 'to_string', '__proto__', 'toString', 'has_own_property', 'valueOf']) {
			const page = callbackFailurePage(new OAuthCallbackError(code, 'x'));
			expect(typeof page?.message, code).toBe('string');
			expect(page?.message, code).toContain('start again from the home page');
		}
	});
});
