import { LocalActorResolver, PlcDidDocumentResolver, XrpcHandleResolver } from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { generatePrivateKey, type PrivateKey } from '@atcute/oauth-keys';
import {
	startTestOAuthServer,
	type TestOAuthServer,
	type TestOAuthServerOptions,
} from '@atcute-oauth/test-oauth-server';
import { afterAll, beforeAll, beforeEach } from 'vitest';

import { OAuthClient, type OAuthClientOptions } from '../oauth-client.ts';
import type { StoredSession, StoredState } from '../stored-types.ts';
import { MapStore } from './map-store.ts';

export const CLIENT_ID = 'https://app.example.com/oauth-client-metadata.json';
export const REDIRECT_URI = 'https://app.example.com/oauth/callback';

/** the client metadata of every test client (and of the app processes tests start beside them). */
export const TEST_CLIENT_METADATA: {
	client_id: string;
	redirect_uris: [string, string];
	scope: string[];
} = {
	client_id: CLIENT_ID,
	redirect_uris: [REDIRECT_URI, 'https://app.example.com/oauth/other'],
	scope: ['atproto', 'transition:generic'],
};

/** an actor resolver that resolves through the test server's PLC and PDS. */
export const actorResolverFor = (server: TestOAuthServer): LocalActorResolver => {
	return new LocalActorResolver({
		handleResolver: new XrpcHandleResolver({ serviceUrl: server.pdsUrl }),
		didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: server.plcUrl }),
	});
};

/** a controllable clock, starting now. */
export interface TestClock {
	now: () => number;
	advance: (ms: number) => void;
}

export const testClock = (): TestClock => {
	let offset = 0;
	return {
		now: () => Date.now() + offset,
		advance: (ms) => {
			offset += ms;
		},
	};
};

/** an account the test server made. */
export interface TestAccount {
	did: Did;
	handle: string;
}

/** what `useTestServer` hands a describe block once its server is up. */
export interface TestServerEnv {
	server: TestOAuthServer;
	/** `alice.test`, made on the server. */
	alice: TestAccount;
	/** the server's clock: a block that moves time for the server gives it to its clients too. */
	clock: TestClock;
	/** `createTestClient` with the server's clock, so time moves for both. */
	createTestClient: typeof createTestClient;
}

/**
 * the test server of a describe block: started before its tests (with `alice.test` made), reset
 * before each test, closed after them. `ready` gets it once it is up, to keep in the block's
 * variables (more accounts made there come after alice, as before).
 */
export const useTestServer = (
	ready: (env: TestServerEnv) => void,
	serverOptions: Omit<TestOAuthServerOptions, 'now'> = {},
): void => {
	let server: TestOAuthServer | undefined;
	beforeAll(async () => {
		const clock = testClock();
		server = await startTestOAuthServer({ ...serverOptions, now: clock.now });
		const alice = server.createAccount({ handle: 'alice.test' }) as TestAccount;
		ready({
			server,
			alice,
			clock,
			createTestClient: (target, overrides = {}) => createTestClient(target, { clock, ...overrides }),
		});
	});
	afterAll(() => server?.close());
	beforeEach(() => server?.reset());
};

export interface TestClient {
	client: OAuthClient;
	sessions: MapStore<StoredSession>;
	states: MapStore<StoredState>;
	key: PrivateKey;
	clock: TestClock;
}

/** a confidential client configured as the documented setup, against the test server. */
export const createTestClient = async (
	server: TestOAuthServer,
	overrides: Partial<OAuthClientOptions> & {
		key?: PrivateKey;
		sessions?: MapStore<StoredSession>;
		clock?: TestClock;
	} = {},
): Promise<TestClient> => {
	const { key: givenKey, sessions: givenSessions, clock: givenClock, ...options } = overrides;
	const key = givenKey ?? (await generatePrivateKey('main'));
	const sessions = givenSessions ?? new MapStore<StoredSession>();
	const states = new MapStore<StoredState>();
	const clock = givenClock ?? testClock();
	const client = new OAuthClient({
		metadata: TEST_CLIENT_METADATA,
		keyset: [key],
		stores: { sessions, states },
		actorResolver: actorResolverFor(server),
		allowHttp: true,
		now: clock.now,
		...options,
	});
	server.registerClient(client.metadata);
	return { client, sessions, states, key, clock };
};

/** signs `did` in through the whole flow and returns the callback result. */
export const signIn = async (
	server: TestOAuthServer,
	client: OAuthClient,
	did: Did,
	identifier: string = did,
): ReturnType<OAuthClient['callback']> => {
	const { url } = await client.authorize({
		target: { type: 'account', identifier },
		state: { returnTo: '/x' },
	});
	const params = await server.authorize(url, { did });
	return client.callback(params);
};

export { startTestOAuthServer, type TestOAuthServer };
