import { IdentityResolutionError } from '@atcute/oauth-node-client';
import { describe, expect, it } from 'vitest';

import { loginFailurePage } from '../src/failure-pages.ts';

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
