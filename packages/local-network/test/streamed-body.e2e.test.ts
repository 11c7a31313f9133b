import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import { generatePrivateKey, type OAuthClient } from '@atcute/oauth-node-client';
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
const documents: ClientDocuments[] = [];

beforeAll(async () => {
	network = await startLocalNetwork({ accounts: [{ handle: 'alice.test' }], traceRequests: true });
	alice = network.accounts[0]!;
}, START_TIMEOUT_MS);

afterAll(async () => {
	await Promise.all(documents.map((served) => served.close()));
	await network?.close();
});

const UPLOAD_BLOB = '/xrpc/com.atproto.repo.uploadBlob';

/** a body that can be sent once. */
const streamOf = (text: string): ReadableStream<Uint8Array> => {
	const bytes = new TextEncoder().encode(text);
	return new ReadableStream({
		start(controller) {
			controller.enqueue(bytes);
			controller.close();
		},
	});
};

/** the PDS's XRPC requests from now on: `status method path` each. */
const watchXrpc = async () => {
	const from = (await network.syncRequests()).length;
	return async (): Promise<string[]> =>
		(await network.syncRequests())
			.slice(from)
			.filter((request) => request.path.startsWith('/xrpc/'))
			.map((request) => `${request.status} ${request.method} ${request.path}`);
};

// a stream cannot be sent twice, so it is not retried when the PDS asks for a nonce: a new
// process, which knows no PDS nonce yet, learns it with a body-less call first
describe('a streamed body against the reference PDS', () => {
	it(
		"a new process's first PDS call, a streamed uploadBlob, succeeds (through handle and @atcute/client)",
		async () => {
			const served = await serveClientDocuments(network.tls);
			documents.push(served);
			const keyset = [await generatePrivateKey('main', 'ES256')];
			const stores = createStores();
			await signIn(createConfidentialClient({ network, documents: served, keyset, stores }), network, alice);
			// each further process: the same stores (a database, Redis) and keys, its own memory
			const nextProcess = (): OAuthClient =>
				createConfidentialClient({ network, documents: served, keyset, stores });

			const session = await nextProcess().restore(alice.did);
			let requests = await watchXrpc();
			const response = await session.handle(UPLOAD_BLOB, {
				method: 'POST',
				headers: { 'content-type': 'text/plain' },
				body: streamOf('an upload'),
				// @ts-expect-error Node's fetch needs it for a stream; not in the DOM's RequestInit
				duplex: 'half',
			});
			const text = await response.text();
			expect(response.status, text).toBe(200);
			expect(JSON.parse(text).blob).toMatchObject({ $type: 'blob', mimeType: 'text/plain', size: 9 });
			// one probe (refused once for its nonce, then answered), then the upload, sent once
			expect(await requests()).toEqual([
				'401 GET /xrpc/com.atproto.server.getSession',
				'200 GET /xrpc/com.atproto.server.getSession',
				`200 POST ${UPLOAD_BLOB}`,
			]);

			// the nonce was seen just now: the next stream goes straight
			requests = await watchXrpc();
			const again = await session.handle(UPLOAD_BLOB, {
				method: 'POST',
				headers: { 'content-type': 'text/plain' },
				body: streamOf('another'),
				// @ts-expect-error as above
				duplex: 'half',
			});
			expect(again.status, await again.text()).toBe(200);
			expect(await requests()).toEqual([`200 POST ${UPLOAD_BLOB}`]);

			// another new process, through @atcute/client with a stream as input
			const client = new Client({ handler: await nextProcess().restore(alice.did) });
			const uploaded = await client.post('com.atproto.repo.uploadBlob', {
				input: streamOf('x') as unknown as Blob,
				headers: { 'content-type': 'text/plain' },
			});
			expect(uploaded.ok, JSON.stringify(uploaded.data)).toBe(true);
		},
		TEST_TIMEOUT_MS,
	);
});
