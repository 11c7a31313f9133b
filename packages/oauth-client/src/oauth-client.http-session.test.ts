import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { UnreadableSessionError } from './errors.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

describe('a stored session naming a plain-http PDS, read by a client without allowHttp', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	it('is refused before its access token is sent anywhere, and kept', async () => {
		// a development client (the test server is plain http) stores the session...
		const dev = await createTestClient(server);
		await signIn(server, dev.client, alice.did);
		const stored = dev.sessions.map.get(alice.did)!;
		expect(stored.tokenSet.aud.startsWith('http://')).toBe(true);
		// ...which a production client on the same store reads
		const { client } = await createTestClient(server, { sessions: dev.sessions, allowHttp: false });
		const resource = server.stats.resource;

		const error = await client.restore(alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(UnreadableSessionError);
		expect((error as UnreadableSessionError).problem).toMatch(/^tokenSet\.aud is not an https: URL/);
		const forced = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(forced).toBeInstanceOf(UnreadableSessionError);
		expect(server.stats.resource).toBe(resource);
		expect(server.stats.token.refresh_token).toBe(0);
		expect(dev.sessions.map.get(alice.did)).toBe(stored);

		// the development client itself goes on using it
		const session = await dev.client.restore(alice.did);
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
	});
});
