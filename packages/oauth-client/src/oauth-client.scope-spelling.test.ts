import { scope } from '@atcute/oauth-scope';
import { describe, expect, it } from 'vitest';

import {
	CLIENT_ID,
	createTestClient,
	REDIRECT_URI,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';

// the server compares each requested scope token literally to the metadata's, but a permission has
// many spellings: a builder writes the canonical one, a hand-written metadata scope may not
describe('OAuthClient.authorize with a scope the metadata spells otherwise', () => {
	let server: TestOAuthServer;

	useTestServer((env) => ({ server } = env));

	const METADATA_SCOPE = [
		'atproto',
		'repo:app.bsky.feed.post?action=update&action=create',
		'rpc?lxm=app.bsky.feed.getTimeline&aud=did:web:api.bsky.app%23bsky_appview',
	];

	it('asks for the metadata spelling of the same permission, which the server takes', async () => {
		const { client } = await createTestClient(server, {
			metadata: { client_id: CLIENT_ID, redirect_uris: [REDIRECT_URI], scope: METADATA_SCOPE },
		});
		await client.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			scope: [
				scope.repo({ collection: ['app.bsky.feed.post'], action: ['create', 'update'] }),
				scope.rpc({ lxm: ['app.bsky.feed.getTimeline'], aud: 'did:web:api.bsky.app#bsky_appview' }),
			],
		});
		expect(server.stats.parRequests.at(-1)!.params.scope).toBe(METADATA_SCOPE.join(' '));
		server.assertNoRejections();
	});

	it('still refuses a permission the metadata does not hold in any spelling (a narrower one)', async () => {
		const { client } = await createTestClient(server, {
			metadata: { client_id: CLIENT_ID, redirect_uris: [REDIRECT_URI], scope: METADATA_SCOPE },
		});
		const before = server.stats.par;
		await expect(
			client.authorize({
				target: { type: 'account', identifier: 'alice.test' },
				scope: ['repo:app.bsky.feed.post?action=create'],
			}),
		).rejects.toThrow(
			/^scope "repo:app\.bsky\.feed\.post\?action=create" is not in the client metadata's scope$/,
		);
		expect(server.stats.par).toBe(before);
	});
});
