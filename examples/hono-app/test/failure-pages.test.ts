import {
	DiscoveryError,
	IdentityResolutionError,
	LockUnavailableError,
	OAuthCallbackError,
	OAuthResponseError,
} from '@atcute/oauth-node-client';
import { describe, expect, it } from 'vitest';

import { callbackFailurePage, loginFailurePage } from '../src/failure-pages.ts';

describe('loginFailurePage: an identity that could not be resolved', () => {
	it('is the service’s trouble (503, logged) when the lookup may work later', () => {
		const page = loginFailurePage(
			new IdentityResolutionError('alice.test', { reason: 'unavailable' }),
			'alice.test',
		);
		expect(page).toMatchObject({ status: 503, code: 'identity_unavailable', log: true });
	});

	it('says what was typed is not a handle, without logging it', () => {
		const page = loginFailurePage(
			new IdentityResolutionError('https://bsky.social', { reason: 'invalid_identifier' }),
			'https://bsky.social',
		);
		expect(page).toMatchObject({ status: 400, code: 'invalid_handle', title: 'not a handle' });
		expect(page?.log).toBeFalsy();
	});

	it.each(['not_found', 'handle_mismatch', 'invalid_document', 'refused'] as const)(
		'answers %s as an unknown account (400), not logged',
		(reason) => {
			const page = loginFailurePage(new IdentityResolutionError('bob.test', { reason }), 'bob.test');
			expect(page).toMatchObject({ status: 400, code: 'unknown_handle' });
			expect(page?.log).toBeFalsy();
		},
	);
});

describe('failure pages for what passes', () => {
	it('answers a PDS that could not be reached for now with 503, and one that is refused with 502', () => {
		const down = new DiscoveryError('network', 'https://pds.test/', 'could not fetch');
		expect(down.transient).toBe(true);
		expect(loginFailurePage(down, 'bob.test')).toMatchObject({ status: 503, title: 'try again in a moment' });
		const refused = new DiscoveryError('refused', 'https://pds.test/', 'refused to fetch');
		expect(loginFailurePage(refused, 'bob.test')).toMatchObject({ status: 502 });
	});

	it('answers a lock backend that could not be reached with 503, and a permanent failure not at all', () => {
		const down = new LockUnavailableError('did:plc:a', 'PostgreSQL could not be reached');
		expect(loginFailurePage(down, 'bob.test')).toMatchObject({ status: 503 });
		expect(callbackFailurePage(down)).toMatchObject({ status: 503 });
		const refused = new LockUnavailableError('did:plc:a', 'permission denied', { transient: false });
		expect(loginFailurePage(refused, 'bob.test')).toBeUndefined();
	});
});

describe('callbackFailurePage: the error the callback URL carries', () => {
	it('shows an OAuth error code, and never free text someone wrote into the link', () => {
		expect(callbackFailurePage(new OAuthCallbackError('access_denied'))).toMatchObject({
			code: 'access_denied',
		});
		const spoof = 'Your account is locked. Call +1-555-0100 or visit evil.example';
		const page = callbackFailurePage(new OAuthCallbackError(spoof));
		expect(page).toMatchObject({ status: 400, code: 'invalid_response' });
		expect(JSON.stringify(page)).not.toContain('555-0100');
	});
});

describe("failure pages for an authorization server's refusal", () => {
	it("shows the server's error when it is an OAuth error code, and never its free text", () => {
		// any server can answer a sign-in (a visitor's handle picks it), and a link to the callback of
		// the sender's own sign-in puts the sender's server's words on this app's page
		const words = 'Your session here was compromised. Sign in again at https://evil.example/reset';
		for (const [page, endpoint] of [
			[callbackFailurePage, 'token'],
			[(error: unknown) => loginFailurePage(error, 'bob.test'), 'par'],
		] as const) {
			expect(page(new OAuthResponseError(endpoint, 400, 'invalid_grant'))).toMatchObject({
				code: 'invalid_grant',
			});
			const shown = page(new OAuthResponseError(endpoint, 400, words));
			expect(shown).toMatchObject({ code: 'invalid_response' });
			expect(JSON.stringify(shown)).not.toContain('evil.example');
		}
	});
});
