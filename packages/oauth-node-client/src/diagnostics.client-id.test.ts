import { subscribe, unsubscribe } from 'node:diagnostics_channel';

import type { Did } from '@atcute/lexicons';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OAUTH_TRACING_CHANNELS, type OAuthClient } from './index.ts';
import { createTestServerClient } from './test-utils/test-server-client.ts';

const STAGING = 'https://staging.example.com/oauth-client-metadata.json';
const PRODUCTION = 'https://app.example.com/oauth-client-metadata.json';

// the tracing channels are one namespace for the whole process: two clients in it (two apps, or
// staging beside production) publish on the same names, and a subscriber must tell them apart
describe('diagnostics_channel tracing of two clients in one process', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	beforeAll(async () => {
		server = await startTestOAuthServer();
		alice = server.createAccount({ handle: 'alice.test' }) as { did: Did; handle: string };
	});
	afterAll(() => server.close());

	const clientFor = (clientId: string): Promise<OAuthClient> => {
		const origin = new URL(clientId).origin;
		return createTestServerClient(server, {
			metadata: {
				client_id: clientId,
				redirect_uris: [`${origin}/oauth/callback`],
				scope: ['atproto', 'transition:generic'],
			},
		});
	};

	it("names the client_id in every message, so that one client's operations are not counted as the other's", async () => {
		const staging = await clientFor(STAGING);
		const production = await clientFor(PRODUCTION);
		const seen: { channel: string; clientId: unknown }[] = [];
		const handlers = Object.values(OAUTH_TRACING_CHANNELS).map((name) => {
			const channel = `tracing:${name}:asyncEnd`;
			const handler = (message: unknown) =>
				void seen.push({ channel: name, clientId: (message as { clientId?: unknown }).clientId });
			subscribe(channel, handler);
			return () => unsubscribe(channel, handler);
		});
		try {
			for (const oauth of [staging, production]) {
				const { url } = await oauth.authorize({ target: { type: 'account', identifier: alice.handle } });
				const { session } = await oauth.callback(await server.authorize(url, { did: alice.did }));
				await (await session.handle('/xrpc/com.atproto.server.getSession')).arrayBuffer();
				await (await oauth.restore(alice.did, { refresh: true })).signOut();
			}
		} finally {
			for (const stop of handlers) stop();
		}
		const byOperation = (clientId: string) =>
			seen.filter((message) => message.clientId === clientId).map((message) => message.channel);
		const operations = ['authorize', 'callback', 'request', 'refresh', 'revoke'].map(
			(operation) => `atcute:oauth:${operation}`,
		);
		expect(byOperation(STAGING)).toEqual(operations);
		expect(byOperation(PRODUCTION)).toEqual(operations);
		expect(seen).toHaveLength(2 * operations.length);
	});
});
