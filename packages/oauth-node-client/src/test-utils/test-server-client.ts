import { LocalActorResolver, PlcDidDocumentResolver, XrpcHandleResolver } from '@atcute/identity-resolver';
import type { TestOAuthServer } from '@atcute-oauth/test-oauth-server';

import { generatePrivateKey, MemoryStore, OAuthClient, type OAuthClientOptions } from '../index.ts';

/**
 * the facade's confidential client against the in-process test server: in-memory stores, a new
 * key, the server's PLC and PDS as resolvers, registered with it; `options` replace any of these.
 */
export const createTestServerClient = async (
	server: TestOAuthServer,
	options: Partial<OAuthClientOptions> = {},
): Promise<OAuthClient> => {
	const oauth = new OAuthClient({
		metadata: {
			client_id: 'https://app.example.com/oauth-client-metadata.json',
			redirect_uris: ['https://app.example.com/oauth/callback'],
			scope: ['atproto', 'transition:generic'],
		},
		keyset: [await generatePrivateKey('main')],
		stores: { sessions: new MemoryStore(), states: new MemoryStore() },
		actorResolver: new LocalActorResolver({
			handleResolver: new XrpcHandleResolver({ serviceUrl: server.pdsUrl }),
			didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: server.plcUrl }),
		}),
		// the test server is plain http on loopback
		allowHttp: true,
		...options,
	});
	server.registerClient(oauth.metadata);
	return oauth;
};
