import {
	type ActorResolver,
	type DidDocumentResolver,
	LocalActorResolver,
	PlcDidDocumentResolver,
	WellKnownHandleResolver,
} from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { IdentityResolutionError } from './errors.ts';
import {
	actorResolverFor,
	createTestClient,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';

const refusal = (promise: Promise<unknown>): Promise<unknown> =>
	promise.then(
		() => undefined,
		(err: unknown) => err,
	);

// what a visitor typed, held to atproto's rules before a request goes anywhere, and what the
// identity's servers answer, read for what it says (a broken document is not an outage)
describe('OAuthClient.authorize and the account identifier', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => ({ server, alice } = env));

	/** a resolver that records what it is asked, and answers with alice's account. */
	const recording = () => {
		const asked: string[] = [];
		const actorResolver: ActorResolver = {
			resolve: async (actor) => {
				asked.push(actor);
				return { did: alice.did, handle: actor as never, pds: server.pdsUrl };
			},
		};
		return { asked, actorResolver };
	};

	it('holds a did:web to the handle rules: no IP address, no disallowed TLD, a port on localhost only', async () => {
		const { asked, actorResolver } = recording();
		const { client } = await createTestClient(server, { actorResolver });
		for (const [typed, detail] of [
			['did:web:127.0.0.1', 'not a domain name'],
			['did:web:10.0.0.1%3A80', 'a port only on localhost'],
			['did:web:example.com%3A8443', 'a port only on localhost'],
			['did:web:com', 'not a domain name'],
			['did:web:example.123', 'not a domain name'],
			['did:web:printer.local', 'under .local'],
			['did:web:metadata.internal', 'under .internal'],
			['did:web:foo.onion', 'under .onion'],
			['did:web:1.arpa', 'under .arpa'],
			['did:web:localhost%3A99999', 'port 99999 does not exist'],
		] as const) {
			const error = await refusal(client.authorize({ target: { type: 'account', identifier: typed } }));
			expect(error, typed).toBeInstanceOf(IdentityResolutionError);
			expect(error, typed).toMatchObject({ reason: 'invalid_identifier', transient: false });
			expect((error as Error).message, typed).toContain(detail);
		}
		expect(asked).toEqual([]);

		// a domain, and localhost (with a port) where allowHttp says this is a test
		for (const typed of ['did:web:example.com', 'did:web:localhost%3A8080', 'did:web:localhost']) {
			await client.authorize({ target: { type: 'account', identifier: typed } });
		}
		expect(asked).toEqual(['did:web:example.com', 'did:web:localhost%3A8080', 'did:web:localhost']);
	});

	it('refuses did:web:localhost without allowHttp: atproto keeps it for testing', async () => {
		const { asked, actorResolver } = recording();
		const { client } = await createTestClient(server, { actorResolver, allowHttp: false });
		for (const typed of ['did:web:localhost%3A8080', 'did:web:localhost']) {
			const error = await refusal(client.authorize({ target: { type: 'account', identifier: typed } }));
			expect(error, typed).toMatchObject({ reason: 'invalid_identifier' });
			expect((error as Error).message, typed).toContain('for testing only (allowHttp)');
		}
		expect(asked).toEqual([]);
	});

	it('refuses a handle with a character that only a Unicode lower-casing turns into ASCII', async () => {
		const { asked, actorResolver } = recording();
		const { client } = await createTestClient(server, { actorResolver });
		// U+212A KELVIN SIGN lower-cases to an ASCII k
		const error = await refusal(
			client.authorize({ target: { type: 'account', identifier: '\u212Aelvin.test' } }),
		);
		expect(error).toMatchObject({ reason: 'invalid_identifier' });
		expect(asked).toEqual([]);
		// a handle typed in upper case is still taken, lower-cased
		await client.authorize({ target: { type: 'account', identifier: 'KELVIN.test' } });
		expect(asked).toEqual(['kelvin.test']);
	});

	it('signs in by DID without looking up the handle its document names', async () => {
		const upstream = actorResolverFor(server);
		const handlesAsked: string[] = [];
		const actorResolver = new LocalActorResolver({
			// the handle's host never answers: sign-in by DID is the way round it
			handleResolver: {
				resolve: (handle) => {
					handlesAsked.push(handle);
					return new Promise(() => {});
				},
			},
			didDocumentResolver: upstream.didDocumentResolver,
		});
		const { client } = await createTestClient(server, { actorResolver, timeout: 2_000 });
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		expect(url.searchParams.get('request_uri')).toBeTruthy();
		expect(server.stats.parRequests.at(-1)!.params.login_hint).toBe(alice.did);
		expect(handlesAsked).toEqual([]);
	});

	/** alice's DID document served as `answer` (a status, a content type, a body) by the directory. */
	const directoryAnswering = (answer: () => Response): LocalActorResolver => {
		const upstream = actorResolverFor(server);
		const fetch: typeof globalThis.fetch = async (input, init) => {
			const url = input instanceof Request ? input.url : String(input);
			return url.endsWith(encodeURIComponent(alice.did)) ? answer() : globalThis.fetch(input, init);
		};
		return new LocalActorResolver({
			handleResolver: upstream.handleResolver,
			didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: server.plcUrl, fetch }),
		});
	};

	it('reports a DID document that is no valid document as invalid_document, not as an outage', async () => {
		const json = (body: unknown, type = 'application/did+json') =>
			new Response(JSON.stringify(body), { headers: { 'content-type': type } });
		const answers: [string, () => Response, 'invalid_document' | 'unavailable'][] = [
			['refused by its schema', () => json({ id: alice.did, service: 'nope' }), 'invalid_document'],
			[
				'over the size cap',
				() => json({ id: alice.did, alsoKnownAs: ['x'.repeat(30_000)] }),
				'invalid_document',
			],
			[
				'a redirect',
				() => new Response(null, { status: 302, headers: { location: server.plcUrl } }),
				'invalid_document',
			],
			// what an outage can look like too: a body cut short without a length, a front server's page
			[
				'not JSON',
				() => new Response('{"id":', { headers: { 'content-type': 'application/json' } }),
				'unavailable',
			],
			['an HTML page served with 200', () => json({ id: alice.did }, 'text/html'), 'unavailable'],
			['a 503', () => new Response('busy', { status: 503 }), 'unavailable'],
		];
		for (const [what, answer, reason] of answers) {
			const { client } = await createTestClient(server, { actorResolver: directoryAnswering(answer) });
			for (const identifier of [alice.did, alice.handle]) {
				const error = await refusal(client.authorize({ target: { type: 'account', identifier } }));
				expect(error, `${what}, by ${identifier}`).toBeInstanceOf(IdentityResolutionError);
				expect(error, `${what}, by ${identifier}`).toMatchObject({
					reason,
					transient: reason === 'unavailable',
				});
			}
		}
		expect(server.stats.par ?? 0).toBe(0);
	});

	it('keeps a handle whose well-known answer redirects transient: a DNS lookup that failed for a moment may hide behind it', async () => {
		const upstream = actorResolverFor(server);
		const fetch: typeof globalThis.fetch = async () =>
			new Response(null, { status: 301, headers: { location: 'https://www.moved.test/' } });
		const actorResolver = new LocalActorResolver({
			handleResolver: new WellKnownHandleResolver({ fetch }),
			didDocumentResolver: upstream.didDocumentResolver,
		});
		const { client } = await createTestClient(server, { actorResolver });
		const error = await refusal(client.authorize({ target: { type: 'account', identifier: 'moved.test' } }));
		expect(error).toMatchObject({ reason: 'unavailable', transient: true });
	});

	it('takes the first valid handle among the document’s at:// entries as the one it claims', async () => {
		const upstream = actorResolverFor(server);
		const documents: DidDocumentResolver = {
			resolve: async (did, options) => {
				const document = await upstream.didDocumentResolver.resolve(did, options);
				return { ...document, alsoKnownAs: ['at://not_a_handle', ...(document.alsoKnownAs ?? [])] };
			},
		};
		const actorResolver = new LocalActorResolver({
			handleResolver: upstream.handleResolver,
			didDocumentResolver: documents,
		});
		const { client } = await createTestClient(server, { actorResolver });
		await client.authorize({ target: { type: 'account', identifier: alice.handle } });
		expect(server.stats.parRequests.at(-1)!.params.login_hint).toBe(alice.handle);
	});
});
