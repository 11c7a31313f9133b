import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { CLIENT_ID, createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/** what a synchronous store over better-sqlite3 throws when the database is busy: at once, no promise. */
const busy = (): never => {
	throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
};

/** the rejection of `promise`, which must reject. */
const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
	promise.then(
		() => expect.unreachable('it resolved'),
		(err: unknown) => err,
	);

describe('OAuthClient over a synchronous store that throws (methods may be sync)', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => ({ server, alice } = env));

	it("authorize(): a failed PAR is reported as itself, not as the state store's failure to forget the state", async () => {
		// the server's own refusal, as a store that works reports it
		const reference = await createTestClient(server);
		server.unregisterClient(CLIENT_ID);
		const expected = await rejectionOf(
			reference.client.authorize({ target: { type: 'account', identifier: alice.handle } }),
		);

		const { client, states } = await createTestClient(server);
		server.unregisterClient(CLIENT_ID);
		states.delete = busy;
		const got = await rejectionOf(
			client.authorize({ target: { type: 'account', identifier: alice.handle } }),
		);
		expect(got).toBeInstanceOf((expected as Error).constructor);
		expect((got as Error).message).toBe((expected as Error).message);
	});

	it("callback(): a state this process cannot complete is reported as such, not as the state store's failure to put it back", async () => {
		// a rolling deploy: the sign-in started in a process whose client key this one lacks
		const started = await createTestClient(server);
		const { url } = await started.client.authorize({ target: { type: 'account', identifier: alice.handle } });
		const params = await server.authorize(url, { did: alice.did });
		const { client, states } = await createTestClient(server);
		for (const [id, state] of started.states.map) states.map.set(id, state);
		// as a store that works reports it
		const expected = await rejectionOf(client.callback(params));
		expect(states.map.size).toBe(1);

		states.set = busy;
		const got = await rejectionOf(client.callback(params));
		expect(got).toBeInstanceOf((expected as Error).constructor);
		expect((got as Error).message).toBe((expected as Error).message);
	});
});
