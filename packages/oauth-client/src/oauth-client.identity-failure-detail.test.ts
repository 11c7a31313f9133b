import {
	AmbiguousHandleError,
	InvalidResolvedHandleError,
	LocalActorResolver,
	PlcDidDocumentResolver,
} from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import type { OAuthDiscovery } from '@atcute/oauth-discovery';
import { describe, expect, it } from 'vitest';

import { IdentityResolutionError } from './errors.ts';
import { resolveIdentityAfresh } from './internal/resolve-identity.ts';
import {
	actorResolverFor,
	createTestClient,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';

const refusal = (promise: Promise<unknown>): Promise<unknown> =>
	promise.then(
		() => expect.unreachable('resolved'),
		(err: unknown) => err,
	);

// an IdentityResolutionError says what went wrong in its message, not only down its `cause`
// chain: "could not resolve did:plc:…" alone leaves a log reader to guess between an unknown DID,
// a tombstoned one and a directory that refused the request
describe('IdentityResolutionError, the DID document unread', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => ({ server, alice } = env));

	/** an actor resolver whose PLC directory answers every request with `status`. */
	const directoryAnswering = (status: number) =>
		new LocalActorResolver({
			handleResolver: actorResolverFor(server).handleResolver,
			didDocumentResolver: new PlcDidDocumentResolver({
				apiUrl: server.plcUrl,
				fetch: async () =>
					new Response('{"message":"no"}', { status, headers: { 'content-type': 'application/json' } }),
			}),
		});

	const cases = [
		[404, 'not_found', /no DID document .*404/],
		[410, 'not_found', /410.*(tombstoned|deactivated)/],
		[400, 'not_found', /answered 400/],
		[503, 'unavailable', /answered 503/],
	] as const;

	it.each(cases)(
		'names a directory that answered %i, by DID and by handle',
		async (status, reason, message) => {
			const { client } = await createTestClient(server, { actorResolver: directoryAnswering(status) });
			for (const identifier of [alice.did, alice.handle]) {
				const error = await refusal(client.authorize({ target: { type: 'account', identifier } }));
				expect(error, identifier).toBeInstanceOf(IdentityResolutionError);
				expect(error, identifier).toMatchObject({ reason, transient: reason === 'unavailable' });
				expect((error as Error).message, identifier).toMatch(message);
				expect((error as Error).message, identifier).toContain(alice.did);
			}
		},
	);

	it.each(cases)(
		'names it when the DID is resolved afresh (callback, refresh): %i',
		async (status, reason, message) => {
			const error = await refusal(
				resolveIdentityAfresh(directoryAnswering(status), {} as OAuthDiscovery, alice.did, {
					timeout: 5000,
					issuer: server.issuer,
				}),
			);
			expect(error).toBeInstanceOf(IdentityResolutionError);
			expect(error).toMatchObject({ reason });
			expect((error as Error).message).toMatch(message);
		},
	);

	it('names what the handle led to: several DIDs, or a value that is no DID (escaped: anyone can publish it)', async () => {
		for (const [thrown, message] of [
			[() => new AmbiguousHandleError(alice.handle), /more than one DID/],
			[
				() => new InvalidResolvedHandleError(alice.handle, 'did:x\u202e\n'),
				/names did:x\\u202e\\u000a, which is no atproto DID/,
			],
		] as const) {
			const actorResolver = new LocalActorResolver({
				handleResolver: {
					resolve: async () => {
						throw thrown();
					},
				},
				didDocumentResolver: actorResolverFor(server).didDocumentResolver,
			});
			const { client } = await createTestClient(server, { actorResolver });
			const error = await refusal(
				client.authorize({ target: { type: 'account', identifier: alice.handle } }),
			);
			expect(error).toMatchObject({ reason: 'not_found', transient: false });
			expect((error as Error).message).toMatch(message);
		}
	});
});
