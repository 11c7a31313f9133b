import { afterAll, beforeAll, beforeEach } from 'vitest';

import {
	authorizationServerMetadata,
	json,
	protectedResourceMetadata,
	startTestServer,
	type TestServer,
} from './metadata-test-server.ts';

export const PR_PATH = '/.well-known/oauth-protected-resource';
export const AS_PATH = '/.well-known/oauth-authorization-server';

/** a PDS and its authorization server, both serving their metadata. */
export interface MetadataServers {
	pds: TestServer;
	as: TestServer;
}

/**
 * a PDS and an authorization server for the tests of a file or block: started before them, reset
 * to serve valid metadata naming each other before each test, closed after them. the object's
 * fields are set once they are up.
 */
export const useMetadataServers = (): MetadataServers => {
	const servers = {} as MetadataServers;
	beforeAll(async () => {
		[servers.pds, servers.as] = await Promise.all([startTestServer(), startTestServer()]);
	});
	beforeEach(() => {
		const { pds, as } = servers;
		pds.reset();
		as.reset();
		pds.route(PR_PATH, json(protectedResourceMetadata(pds.origin, as.origin)));
		as.route(AS_PATH, json(authorizationServerMetadata(as.origin, [pds.origin])));
	});
	afterAll(async () => {
		await Promise.all([servers.pds?.close(), servers.as?.close()]);
	});
	return servers;
};
