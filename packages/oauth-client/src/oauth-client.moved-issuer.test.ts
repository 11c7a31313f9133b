import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Did } from '@atcute/lexicons';
import { DiscoveryError } from '@atcute/oauth-discovery';
import { describe, expect, it } from 'vitest';

import { TokenRefreshError } from './errors.ts';
import type { OAuthSessionEvent } from './session-events.ts';
import {
	signIn,
	startTestOAuthServer,
	type TestOAuthServer,
	type TestServerEnv,
	useTestServer,
} from './test-utils/setup.ts';

const listen = async (server: Server): Promise<string> => {
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

const urlOf = (input: RequestInfo | URL): string => (input instanceof Request ? input.url : String(input));

describe('OAuthClient, an account whose PDS moved to another issuer', () => {
	let server: TestOAuthServer;
	let env: TestServerEnv;
	let count = 0;
	const newAccount = () =>
		server.createAccount({ handle: `left-${++count}.test` }) as { did: Did; handle: string };

	useTestServer((ready) => {
		env = ready;
		({ server } = env);
	});

	it('ends the session as issuer_changed when the old issuer is down for good, rather than keep it as transient for ever', async () => {
		const other = await startTestOAuthServer();
		try {
			const carol = newAccount();
			// the old authorization server is gone (decommissioned after the move): its metadata no
			// longer answers
			let oldIssuerDown = false;
			const sentToOld: string[] = [];
			const fetchOld: typeof fetch = (input, init) => {
				const url = urlOf(input);
				if (oldIssuerDown && url.startsWith(`${server.issuer}/`)) {
					sentToOld.push(url);
					if (url.endsWith('/.well-known/oauth-authorization-server')) {
						return Promise.reject(new TypeError('fetch failed'));
					}
				}
				return fetch(input, init);
			};
			const { client, sessions, clock } = await env.createTestClient(server, { fetch: fetchOld });
			await signIn(server, client, carol.did);
			const events: OAuthSessionEvent[] = [];
			client.addEventListener((event) => events.push(event));

			server.updateAccount(carol.did, { pdsEndpoint: other.pdsUrl });
			oldIssuerDown = true;
			// past the metadata cache's minute and the access token's life
			clock.advance(2 * 3600 * 1000);

			for (let attempt = 0; attempt < 2; attempt++) {
				const error = await client.restore(carol.did).then(
					() => undefined,
					(err: unknown) => err,
				);
				if (attempt === 0) {
					expect(error).toBeInstanceOf(TokenRefreshError);
					expect(error).toMatchObject({ did: carol.did, reason: 'issuer_changed' });
				} else {
					expect(error).toMatchObject({ name: 'SessionNotFoundError' });
				}
			}
			expect(sessions.map.has(carol.did)).toBe(false);
			// no token ever went to the old server's token endpoint, nor anything to the new one's
			expect(server.stats.token.refresh_token ?? 0).toBe(0);
			for (const request of other.stats.requests) expect(request).toMatchObject({ method: 'GET' });
			await expect.poll(() => events).toEqual([{ type: 'deleted', sub: carol.did, cause: 'issuer_changed' }]);
		} finally {
			await other.close();
		}
	});
	for (const [answer, status, type] of [
		['404', 404, 'application/json'],
		['an HTML page', 200, 'text/html'],
	] as const) {
		it(`keeps the session when the PDS names another issuer whose metadata is ${answer}, which it refreshes once the PDS is set right`, async () => {
			// the issuer the account's PDS names: up, but its metadata no use (a PDS misconfigured for a
			// while, an issuer's URL mistyped, or one not set up yet)
			const newIssuer = createServer((_request, response) => {
				response.writeHead(status, { 'content-type': type }).end('<html>not here</html>');
			});
			const newIssuerUrl = await listen(newIssuer);
			const newPds = createServer((request, response) => {
				if (request.url !== '/.well-known/oauth-protected-resource') return response.writeHead(404).end();
				response.writeHead(200, { 'content-type': 'application/json' });
				response.end(JSON.stringify({ resource: newPdsUrl, authorization_servers: [newIssuerUrl] }));
			});
			const newPdsUrl = await listen(newPds);
			try {
				const carol = newAccount();
				const { client, sessions } = await env.createTestClient(server);
				await signIn(server, client, carol.did);
				const stored = sessions.map.get(carol.did);
				const events: OAuthSessionEvent[] = [];
				client.addEventListener((event) => events.push(event));
				server.updateAccount(carol.did, { pdsEndpoint: newPdsUrl });

				// no server confirms a move: the session is kept (deleting it could not be undone when the
				// PDS is set right), and the refresh fails with the named server's error, sending nothing
				const error = await client.restore(carol.did, { refresh: true }).then(
					() => undefined,
					(err: unknown) => err,
				);
				expect(error).toBeInstanceOf(DiscoveryError);
				expect(sessions.map.get(carol.did)).toEqual(stored);
				expect(server.stats.token.refresh_token ?? 0).toBe(0);
				expect(server.sessions(carol.did).map((grant) => grant.active)).toEqual([true]);
				expect(events).toEqual([]);

				// the PDS set right: the same session refreshes
				server.updateAccount(carol.did, { pdsEndpoint: server.pdsUrl });
				await expect(client.restore(carol.did, { refresh: true })).resolves.toBeDefined();
				expect(server.stats.token.refresh_token).toBe(1);
			} finally {
				await close(newPds);
				await close(newIssuer);
			}
		});
	}
});
