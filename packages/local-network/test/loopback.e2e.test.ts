import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import { OAuthClient, SessionNotFoundError, scope } from '@atcute/oauth-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
	authorizeWithPassword,
	type LocalAccount,
	type LocalNetwork,
	startLocalNetwork,
} from '../src/index.ts';
import { createStores, localActorResolver, START_TIMEOUT_MS, TEST_TIMEOUT_MS } from './helpers.ts';

let network: LocalNetwork;
let alice: LocalAccount;
let callbackServer: Server;
let redirectUri: string;

beforeAll(async () => {
	network = await startLocalNetwork({ traceRequests: true });
	alice = network.accounts[0]!;
	// the redirect target a loopback app would listen on; here it only gives us a free port
	callbackServer = createServer((_req, res) => res.end('ok'));
	callbackServer.listen(0, '127.0.0.1');
	await once(callbackServer, 'listening');
	redirectUri = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/oauth/callback`;
}, START_TIMEOUT_MS);

afterAll(async () => {
	callbackServer?.close();
	await network?.close();
});

describe('a loopback public client (development mode: no key, no metadata server)', {
	timeout: TEST_TIMEOUT_MS,
}, () => {
	it('signs in, calls the PDS and signs out', async () => {
		const stores = createStores();
		const oauth = new OAuthClient({
			metadata: { redirect_uris: [redirectUri], scope: [scope.atproto, scope.transition.generic] },
			stores,
			actorResolver: localActorResolver(network),
			allowHttp: true,
		});
		expect(oauth.keyset).toBeUndefined();
		expect(oauth.metadata).toMatchObject({ token_endpoint_auth_method: 'none', application_type: 'native' });
		expect(new URL(oauth.metadata.client_id).origin).toBe('http://localhost');

		const { url } = await oauth.authorize({ target: { type: 'account', identifier: alice.handle } });
		expect(url.searchParams.get('client_id')).toBe(oauth.metadata.client_id);
		const callbackUrl = await authorizeWithPassword(url, {
			username: alice.handle,
			password: alice.password,
		});
		expect(`${callbackUrl.origin}${callbackUrl.pathname}`).toBe(redirectUri);

		const { session } = await oauth.callback(callbackUrl.searchParams);
		expect(session.did).toBe(alice.did);
		expect((await stores.sessions.get(alice.did))?.authMethod).toEqual({ method: 'none' });

		const client = new Client({ handler: session });
		const response = await client.get('com.atproto.server.getSession', {});
		expect(response.data).toMatchObject({ did: alice.did, handle: alice.handle });

		const from = (await network.syncRequests()).length;
		await session.signOut();
		const revoked = (await network.syncRequests()).slice(from).filter((r) => r.path === '/oauth/revoke');
		expect(revoked.map((r) => r.status)).toEqual([200, 200]);
		await expect(oauth.restore(alice.did)).rejects.toBeInstanceOf(SessionNotFoundError);
	});
});
