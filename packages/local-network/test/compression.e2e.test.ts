import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import { generatePrivateKey } from '@atcute/oauth-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type LocalAccount, type LocalNetwork, startLocalNetwork } from '../src/index.ts';
import {
	type ClientDocuments,
	createConfidentialClient,
	createStores,
	START_TIMEOUT_MS,
	serveClientDocuments,
	signIn,
	TEST_TIMEOUT_MS,
} from './helpers.ts';

let network: LocalNetwork;
let alice: LocalAccount;
let served: ClientDocuments | undefined;

beforeAll(async () => {
	network = await startLocalNetwork({ accounts: [{ handle: 'alice.test' }] });
	alice = network.accounts[0]!;
}, START_TIMEOUT_MS);

afterAll(async () => {
	await served?.close();
	await network?.close();
});

// the Node transport asks for compression as fetch does: the reference PDS gzips an answer of
// more than a kilobyte when asked, and the session's calls read it as they would uncompressed
describe('compressed answers from the reference PDS', () => {
	it(
		'a page of records comes gzipped through the session, and reads the same as uncompressed',
		async () => {
			served = await serveClientDocuments(network.tls);
			const oauth = createConfidentialClient({
				network,
				documents: served,
				keyset: [await generatePrivateKey('main', 'ES256')],
				stores: createStores(),
			});
			const { session } = await signIn(oauth, network, alice);
			const rpc = new Client({ handler: session });
			for (let i = 0; i < 12; i++) {
				const made = await rpc.post('com.atproto.repo.createRecord', {
					input: {
						repo: alice.did,
						collection: 'app.bsky.feed.post',
						record: {
							$type: 'app.bsky.feed.post',
							text: `post ${i} `.repeat(20),
							createdAt: new Date().toISOString(),
						},
					},
				});
				expect(made.ok).toBe(true);
			}
			const path = `/xrpc/com.atproto.repo.listRecords?repo=${alice.did}&collection=app.bsky.feed.post&limit=50`;

			const compressed = await session.handle(path);
			expect(compressed.status).toBe(200);
			expect(compressed.headers.get('content-encoding')).toBe('gzip');
			const page = (await compressed.json()) as { records: unknown[] };
			expect(page.records).toHaveLength(12);

			const plain = await session.handle(path, { headers: { 'accept-encoding': 'identity' } });
			expect(plain.headers.get('content-encoding')).toBeNull();
			expect(await plain.json()).toEqual(page);
		},
		TEST_TIMEOUT_MS,
	);
});
