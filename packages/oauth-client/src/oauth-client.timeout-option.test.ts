import { generatePrivateKey } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';

import { OAuthClient } from './oauth-client.ts';
import type { OAuthClientOptions } from './oauth-client-options.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';

const options = async (timeout: unknown): Promise<OAuthClientOptions> => ({
	metadata: {
		client_id: 'https://app.example.com/oauth-client-metadata.json',
		redirect_uris: ['https://app.example.com/oauth/callback'],
		scope: 'atproto',
	},
	keyset: [await generatePrivateKey('main')],
	stores: { sessions: new MapStore<StoredSession>(), states: new MapStore<StoredState>() },
	actorResolver: { resolve: async () => ({}) as never },
	timeout: timeout as number,
});

describe('new OAuthClient({ timeout })', () => {
	// 2^31 ms and more: a timer would fire after 1 ms, so it is refused; the error must say why
	// (it said "must be a positive number of milliseconds, got 2147483648", of a positive number)
	it.each([2 ** 31, Number.MAX_SAFE_INTEGER])('refuses timeout %s, saying the limit', async (timeout) => {
		const given = await options(timeout);
		expect(() => new OAuthClient(given)).toThrow(
			`timeout must be a positive number of milliseconds up to 2147483647, got ${timeout}`,
		);
	});

	it('shows a timeout given as text as text, not as the number it is not', async () => {
		const given = await options('1000');
		expect(() => new OAuthClient(given)).toThrow(
			'timeout must be a positive number of milliseconds up to 2147483647, got "1000"',
		);
	});

	it('takes the largest timeout a timer holds', async () => {
		const given = await options(2 ** 31 - 1);
		expect(new OAuthClient(given)).toBeInstanceOf(OAuthClient);
	});
});
