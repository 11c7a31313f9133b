import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Did } from '@atcute/lexicons';
import { afterEach, describe, expect, it } from 'vitest';

import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/**
 * a hostile authorization server on 127.0.0.1: its metadata is the honest server's under its own
 * issuer, so its PAR, token and revocation endpoints are the honest server's (any https URL passes
 * the atproto profile). a visitor signs in through it by typing its URL.
 */
const startHostileIssuer = async (honest: TestOAuthServer): Promise<{ url: string; server: Server }> => {
	const honestMetadata = (await (
		await fetch(`${honest.issuer}/.well-known/oauth-authorization-server`)
	).json()) as Record<string, unknown>;
	const server = createServer((request, response) => {
		const { port } = server.address() as AddressInfo;
		if (request.url === '/.well-known/oauth-authorization-server') {
			const { protected_resources: _, ...rest } = honestMetadata;
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end(JSON.stringify({ ...rest, issuer: `http://127.0.0.1:${port}` }));
			return;
		}
		response.writeHead(404).end();
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
};

// one client, many users: a user whose server is hostile must not change what another user's
// honest servers are to this client
describe('OAuthClient shared between an honest and a hostile user', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	const hostile: Server[] = [];

	useTestServer((env) => ({ server, alice } = env));
	afterEach(async () => {
		for (const each of hostile.splice(0)) {
			each.closeAllConnections();
			await new Promise((resolve) => each.close(resolve));
		}
	});

	it("signs the honest user in at a server on another clock after a hostile issuer's endpoints pointed there", async () => {
		// beyond the server's leeway: its first refusal puts it on its own clock
		server.behaviour.clockSkewSeconds = 600;
		const { client } = await createTestClient(server);
		const evil = await startHostileIssuer(server);
		hostile.push(evil.server);

		// the hostile user starts two sign-ins; the honest server refuses both (wrong audience)
		for (let i = 0; i < 2; i++) {
			await expect(client.authorize({ target: { type: 'pds', serviceUrl: evil.url } })).rejects.toThrow();
		}

		const { session } = await signIn(server, client, alice.did);
		expect(session.did).toBe(alice.did);
	});

	it("refreshes the honest user's session from a new process after a hostile issuer's endpoints pointed at its server", async () => {
		const { client: first, sessions, key } = await createTestClient(server);
		await signIn(server, first, alice.did);
		// a process started after the server's clock went off ours: it knows nothing of it yet
		server.behaviour.clockSkewSeconds = 600;
		const { client } = await createTestClient(server, { sessions, key });
		const evil = await startHostileIssuer(server);
		hostile.push(evil.server);

		for (let i = 0; i < 2; i++) {
			await expect(client.authorize({ target: { type: 'pds', serviceUrl: evil.url } })).rejects.toThrow();
		}

		const session = await client.restore(alice.did, { refresh: false });
		await session.refresh();
		expect(server.stats.token.refresh_token).toBe(1);
		const response = await session.handle('/xrpc/com.atproto.server.getSession');
		await response.arrayBuffer();
		expect(response.status).toBe(200);
	});
});
