import type { ActorResolver } from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AuthorizeTarget } from './oauth-client.ts';
import {
	actorResolverFor,
	createTestClient,
	startTestOAuthServer,
	type TestOAuthServer,
} from './test-utils/setup.ts';

/**
 * the abort contract, at every await point of `authorize()` rather than at a moment picked by a
 * timer (which once made "aborts when the caller gives up" fail about 1 run in 11): identity
 * resolution, each discovery document and the PAR request, each before sending, at the response
 * headers and at every body chunk. wherever the caller gives up, `authorize()` rejects with the
 * caller's own `signal.reason`.
 */
describe('OAuthClient.authorize abort contract', () => {
	let server: TestOAuthServer;

	beforeAll(async () => {
		server = await startTestOAuthServer();
		server.createAccount({ handle: 'alice.test' }) as { did: Did };
	});
	afterAll(() => server.close());

	/** a client whose every await point on the network first calls `step()`. */
	const instrumented = async (step: () => void) => {
		const resolver = actorResolverFor(server);
		const actorResolver: ActorResolver = {
			resolve: async (actor, options) => {
				step();
				const resolved = await resolver.resolve(actor, options);
				step();
				return resolved;
			},
		};
		const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
			step();
			const response = await globalThis.fetch(input, init);
			step();
			if (response.body === null) return response;
			const reader = response.body.getReader();
			const body = new ReadableStream<Uint8Array>({
				async pull(controller) {
					step();
					const { done, value } = await reader.read();
					if (done) controller.close();
					else controller.enqueue(value);
				},
				cancel: (reason) => reader.cancel(reason),
			});
			return new Response(body, { status: response.status, headers: response.headers });
		};
		return (await createTestClient(server, { actorResolver, fetch })).client;
	};

	const targets: [string, AuthorizeTarget][] = [
		['an account', { type: 'account', identifier: 'alice.test' }],
		['a PDS', { type: 'pds', serviceUrl: '' }],
	];

	it.each(targets)(
		"rejects with the caller's reason whichever await point the abort lands on, for %s",
		async (_name, given) => {
			const target: AuthorizeTarget =
				given.type === 'pds' ? { type: 'pds', serviceUrl: server.pdsUrl } : given;
			let total = 0;
			const control = await instrumented(() => total++);
			await control.authorize({ target, signal: new AbortController().signal });
			// resolution (account only), two documents and a PAR: each sent, answered and read
			expect(total).toBeGreaterThanOrEqual(9);

			for (let at = 0; at < total; at++) {
				const controller = new AbortController();
				const reason = new Error(`gave up at step ${at}`);
				let step = 0;
				const client = await instrumented(() => {
					if (step++ === at) controller.abort(reason);
				});
				const outcome = await client.authorize({ target, signal: controller.signal }).then(
					() => 'resolved',
					(error: unknown) => error,
				);
				expect(outcome, `abort at step ${at} of ${total}`).toBe(reason);
			}
		},
	);
});
