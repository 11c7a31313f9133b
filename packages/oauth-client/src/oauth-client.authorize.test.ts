import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import { type ActorResolver, LocalActorResolver } from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { DiscoveryError } from '@atcute/oauth-discovery';
import { describe, expect, it } from 'vitest';

import { IdentityResolutionError, InvalidResponseError } from './errors.ts';
import { OAuthClient } from './oauth-client.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	actorResolverFor,
	CLIENT_ID,
	createTestClient,
	REDIRECT_URI,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';

describe('OAuthClient.authorize', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => ({ server, alice } = env));

	it('signs in by handle through PAR, and the session calls the PDS', async () => {
		const { client, states } = await createTestClient(server);
		const { url } = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });

		// only client_id and request_uri travel in the browser
		expect(url.origin).toBe(server.issuer);
		expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
		expect(url.searchParams.get('client_id')).toBe(CLIENT_ID);

		const par = server.stats.parRequests.at(-1)!;
		expect(par.params.login_hint).toBe('alice.test');
		expect(par.params.code_challenge_method).toBe('S256');
		expect(par.params.code_challenge).toHaveLength(43);
		expect(par.params.redirect_uri).toBe(REDIRECT_URI);
		expect(par.params.scope).toBe('atproto transition:generic');
		// the state is a random id; what it stands for stays in our store
		expect(states.map.has(par.params.state!)).toBe(true);
		expect(JSON.stringify(par.params)).not.toContain('verifier');

		const params = await server.authorize(url, { did: alice.did });
		const { session } = await client.callback(params);
		expect(session.did).toBe(alice.did);

		const rpc = new Client({ handler: session });
		const { ok, data } = await rpc.get('com.atproto.server.getSession', {});
		expect(ok).toBe(true);
		expect(data).toMatchObject({ did: alice.did, handle: 'alice.test' });
		server.assertNoRejections();
	});

	it('signs in by DID, with the DID as login_hint', async () => {
		const { client } = await createTestClient(server);
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		expect(server.stats.parRequests.at(-1)!.params.login_hint).toBe(alice.did);
		const { session } = await client.callback(await server.authorize(url, { did: alice.did }));
		expect(session.did).toBe(alice.did);
	});

	it('signs in from a PDS URL, without a login_hint', async () => {
		const { client } = await createTestClient(server);
		const { url } = await client.authorize({ target: { type: 'pds', serviceUrl: server.pdsUrl } });
		expect(server.stats.parRequests.at(-1)!.params.login_hint).toBeUndefined();
		const { session } = await client.callback(await server.authorize(url, { did: alice.did }));
		expect(session.did).toBe(alice.did);
		server.assertNoRejections();
	});

	it('signs in from the authorization server (entryway) URL', async () => {
		const { client } = await createTestClient(server);
		const { url } = await client.authorize({ target: { type: 'pds', serviceUrl: server.issuer } });
		const { session } = await client.callback(await server.authorize(url, { did: alice.did }));
		expect(session.did).toBe(alice.did);
	});

	it('uses the chosen redirect URI and prompt, and refuses others', async () => {
		const { client } = await createTestClient(server);
		await client.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			redirectUri: 'https://app.example.com/oauth/other',
			prompt: 'login',
		});
		const { params } = server.stats.parRequests.at(-1)!;
		expect(params.redirect_uri).toBe('https://app.example.com/oauth/other');
		expect(params.prompt).toBe('login');

		await expect(
			client.authorize({
				target: { type: 'account', identifier: 'alice.test' },
				redirectUri: 'https://evil.example/cb',
			}),
		).rejects.toThrow(/redirectUri/);
		await expect(
			// @ts-expect-error: not an OAuth prompt, refused by the type as by the runtime
			client.authorize({ target: { type: 'account', identifier: 'alice.test' }, prompt: 'sometimes' }),
		).rejects.toThrow(/prompt/);
	});

	it('asks for a subset of the metadata scope, and refuses a scope the metadata lacks', async () => {
		const { client } = await createTestClient(server);
		await client.authorize({ target: { type: 'account', identifier: 'alice.test' }, scope: 'atproto' });
		expect(server.stats.parRequests.at(-1)!.params.scope).toBe('atproto');

		const before = server.stats.par;
		await expect(
			client.authorize({
				target: { type: 'account', identifier: 'alice.test' },
				scope: ['transition:email'],
			}),
		).rejects.toThrow(/"transition:email" is not in the client metadata/);
		// refused before anything was sent
		expect(server.stats.par).toBe(before);
	});

	it('sends a fresh client assertion and proof on the nonce retry of PAR', async () => {
		const { client } = await createTestClient(server);
		server.rotateNonce('as');
		await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		const parRequests = server.stats.requests.filter((request) => request.path === '/oauth/par');
		expect(parRequests.map((request) => request.status).slice(-2)).toEqual([400, 201]);
		server.assertNoRejections();
	});

	it('forgets the state when PAR fails', async () => {
		const { client, states } = await createTestClient(server);
		server.unregisterClient(CLIENT_ID);
		await expect(
			client.authorize({ target: { type: 'account', identifier: 'alice.test' } }),
		).rejects.toThrow();
		expect(states.map.size).toBe(0);
	});

	it('reports an unknown handle as an IdentityResolutionError', async () => {
		const { client } = await createTestClient(server);
		await expect(
			client.authorize({ target: { type: 'account', identifier: 'nobody.test' } }),
		).rejects.toBeInstanceOf(IdentityResolutionError);
	});

	it('marks an unknown handle permanent, and an identity outage transient', async () => {
		const { client } = await createTestClient(server);
		const unknown = await client
			.authorize({ target: { type: 'account', identifier: 'nobody.test' } })
			.catch((err: unknown) => err);
		expect(unknown).toMatchObject({ reason: 'not_found', transient: false, identifier: 'nobody.test' });

		for (const failure of ['status_503', 'network'] as const) {
			server.behaviour.didDocumentFailure = failure;
			const down = await client
				.authorize({ target: { type: 'account', identifier: alice.did } })
				.catch((err: unknown) => err);
			expect(down).toBeInstanceOf(IdentityResolutionError);
			expect(down).toMatchObject({ reason: 'unavailable', transient: true });
		}
		expect(server.stats.par).toBe(0);
	});

	it('refuses a blank identifier as what a visitor typed (invalid_identifier), and a non-string as a TypeError', async () => {
		const { client } = await createTestClient(server);
		for (const identifier of ['', '   ', '@']) {
			const error = await client
				.authorize({ target: { type: 'account', identifier } })
				.catch((err: unknown) => err);
			expect(error).toBeInstanceOf(IdentityResolutionError);
			expect(error).toMatchObject({ reason: 'invalid_identifier', transient: false });
		}
		await expect(
			client.authorize({ target: { type: 'account', identifier: undefined as never } }),
		).rejects.toBeInstanceOf(TypeError);
		expect(server.stats.par).toBe(0);
	});

	it('throws a refusal of the PAR endpoint by the fetch as it is, keeping no state', async () => {
		const refusal = Object.assign(new Error('refused: the PAR endpoint is on a private address'), {
			transient: false,
		});
		const guarded: typeof fetch = async (input, init) => {
			if (String(input).endsWith('/oauth/par')) throw new TypeError('fetch failed', { cause: refusal });
			return fetch(input, init);
		};
		const { client, states } = await createTestClient(server, { fetch: guarded });
		const error = await client
			.authorize({ target: { type: 'account', identifier: alice.did } })
			.catch((err: unknown) => err);
		expect(error).toBe(refusal);
		expect(server.stats.par).toBe(0);
		expect(states.map.size).toBe(0);
	});

	it('refuses a PAR answer with an empty request_uri or an expires_in of 0, keeping no state', async () => {
		// neither leads anywhere: an authorization URL without a request, or one already expired
		for (const answer of [
			{ request_uri: '', expires_in: 60 },
			{ request_uri: 'urn:ietf:params:oauth:request_uri:x', expires_in: 0 },
		]) {
			const par: typeof fetch = async (input, init) => {
				if (String(input).endsWith('/oauth/par')) return Response.json(answer, { status: 201 });
				return fetch(input, init);
			};
			const { client, states } = await createTestClient(server, { fetch: par });
			const error = await client
				.authorize({ target: { type: 'account', identifier: alice.did } })
				.catch((err: unknown) => err);
			expect(error).toBeInstanceOf(InvalidResponseError);
			expect(error).toMatchObject({ endpoint: 'par' });
			expect(states.map.size).toBe(0);
		}
	});

	// a resolver of the app's own may hand over a document it did not validate: its alsoKnownAs is
	// read as the spec says (the first valid at:// handle), never with a raw TypeError
	it('reads an alsoKnownAs a resolver did not validate: entries that are not text skipped, a list that is not one claiming nothing', async () => {
		const upstream = actorResolverFor(server);
		const withAlsoKnownAs = (alsoKnownAs: unknown): ActorResolver =>
			new LocalActorResolver({
				handleResolver: upstream.handleResolver,
				didDocumentResolver: {
					resolve: async (did, options) => ({
						...(await upstream.didDocumentResolver.resolve(did, options)),
						alsoKnownAs: alsoKnownAs as string[],
					}),
				},
			});
		const account = { target: { type: 'account', identifier: 'alice.test' } } as const;

		const skipped = await createTestClient(server, {
			actorResolver: withAlsoKnownAs([42, null, 'at://alice.test']),
		});
		await skipped.client.authorize(account);
		expect(server.stats.parRequests.at(-1)!.params.login_hint).toBe('alice.test');

		for (const alsoKnownAs of ['at://alice.test', { 0: 'at://alice.test' }, 7]) {
			const { client, states } = await createTestClient(server, {
				actorResolver: withAlsoKnownAs(alsoKnownAs),
			});
			const error = await client.authorize(account).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(IdentityResolutionError);
			expect(error).toMatchObject({ reason: 'handle_mismatch', transient: false, identifier: 'alice.test' });
			expect(states.map.size).toBe(0);
		}
	});

	it('refuses a handle that the DID document it leads to does not claim (bidirectional check)', async () => {
		// mallory.test's host says it is alice's DID; alice's DID document does not say it is mallory.test
		const upstream = actorResolverFor(server);
		const actorResolver = new LocalActorResolver({
			handleResolver: {
				resolve: async (handle, options) =>
					handle === 'mallory.test'
						? (alice.did as `did:plc:${string}`)
						: upstream.handleResolver.resolve(handle, options),
			},
			didDocumentResolver: upstream.didDocumentResolver,
		});
		const { client, states } = await createTestClient(server, { actorResolver });
		const error = await client
			.authorize({ target: { type: 'account', identifier: 'mallory.test' } })
			.catch((err: unknown) => err);
		expect(error).toBeInstanceOf(IdentityResolutionError);
		expect(error).toMatchObject({ reason: 'handle_mismatch', transient: false, identifier: 'mallory.test' });
		expect((error as Error).message).toContain(alice.did);
		expect(server.stats.par).toBe(0);
		expect(states.map.size).toBe(0);

		// the handle the document does claim, in any case, signs in, lower-cased
		await client.authorize({ target: { type: 'account', identifier: 'ALICE.Test' } });
		expect(server.stats.parRequests.at(-1)!.params.login_hint).toBe('alice.test');
	});

	/**
	 * an actor resolver whose DID documents claim alice's handle as `Alice.test`; its document
	 * reads after the first `readsBeforeFailing` fail, as a network failure does.
	 */
	const shoutingResolver = (readsBeforeFailing = Number.POSITIVE_INFINITY) => {
		const upstream = actorResolverFor(server);
		let reads = 0;
		return new LocalActorResolver({
			handleResolver: upstream.handleResolver,
			didDocumentResolver: {
				resolve: async (did, options) => {
					if (++reads > readsBeforeFailing) {
						throw new TypeError('fetch failed', { cause: new Error('ECONNRESET') });
					}
					const document = await upstream.didDocumentResolver.resolve(did, options);
					return {
						...document,
						alsoKnownAs: document.alsoKnownAs?.map((uri) => uri.replace('alice', 'Alice')),
					};
				},
			},
		});
	};

	it('accepts a handle its DID document claims in other letter case (handles are case-insensitive)', async () => {
		// LocalActorResolver itself compares as written, and reports the handle as not claimed
		expect((await shoutingResolver().resolve('alice.test')).handle).toBe('handle.invalid');

		// its document read once: the document that names the PDS is the one whose handle is checked
		const { client } = await createTestClient(server, { actorResolver: shoutingResolver(1) });
		await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		expect(server.stats.parRequests.at(-1)!.params.login_hint).toBe('alice.test');
	});

	it("refuses a handle whose DID document is another DID's before the PAR", async () => {
		// the handle leads to alice's DID; the document served for it is bob's, naming bob's PDS
		const upstream = actorResolverFor(server);
		const actorResolver = new LocalActorResolver({
			handleResolver: upstream.handleResolver,
			didDocumentResolver: {
				resolve: async (did, options) => {
					const document = await upstream.didDocumentResolver.resolve(did, options);
					return { ...document, id: 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb' };
				},
			},
		});
		const { client, states } = await createTestClient(server, { actorResolver });
		const error = await client
			.authorize({ target: { type: 'account', identifier: 'alice.test' } })
			.catch((err: unknown) => err);
		expect(error).toBeInstanceOf(IdentityResolutionError);
		expect(error).toMatchObject({ reason: 'invalid_document', transient: false });
		expect((error as Error).message).toContain('did:plc:bbbbbbbbbbbbbbbbbbbbbbbb');
		expect(server.stats.par).toBe(0);
		expect(states.map.size).toBe(0);
	});

	it('refuses a handle whose host names a DID the visitor could not type, before fetching its document', async () => {
		const upstream = actorResolverFor(server);
		const fetched: string[] = [];
		const named = ['did:web:10.0.0.5', 'did:web:example.com%3A8443', 'did:web:intranet', 'did:web:a.local'];
		let next = 0;
		const actorResolver = new LocalActorResolver({
			handleResolver: { resolve: async () => named[next++] as `did:web:${string}` },
			didDocumentResolver: {
				resolve: async (did, options) => {
					fetched.push(did);
					return upstream.didDocumentResolver.resolve(did, options);
				},
			},
		});
		const { client } = await createTestClient(server, { actorResolver });
		for (const did of named) {
			const error = await client
				.authorize({ target: { type: 'account', identifier: 'mallory.test' } })
				.catch((err: unknown) => err);
			expect(error).toBeInstanceOf(IdentityResolutionError);
			expect(error).toMatchObject({ reason: 'not_found', identifier: 'mallory.test' });
			expect((error as Error).message).toContain(did);
		}
		expect(fetched).toEqual([]);
		expect(server.stats.par).toBe(0);

		// through a resolver that keeps its parts to itself: refused all the same, before the PAR
		const opaque = await createTestClient(server, {
			actorResolver: {
				resolve: async () => ({ did: 'did:web:10.0.0.5', handle: 'mallory.test', pds: server.pdsUrl }),
			},
		});
		const error = await opaque.client
			.authorize({ target: { type: 'account', identifier: 'mallory.test' } })
			.catch((err: unknown) => err);
		expect(error).toMatchObject({ name: 'IdentityResolutionError', reason: 'not_found' });
		expect(server.stats.par).toBe(0);
	});

	it('does not take a handle the resolver reports with a Unicode look-alike (the Kelvin sign) as the one asked for', async () => {
		// "\u212A" lower-cases to an ASCII "k" by Unicode's rules, but is no handle character: the
		// resolver's report does not claim kelvin.test, and no document read says more
		const { client } = await createTestClient(server, {
			actorResolver: {
				resolve: async () => ({ did: alice.did, handle: '\u212Aelvin.test', pds: server.pdsUrl }),
			},
		});
		const error = await client
			.authorize({ target: { type: 'account', identifier: 'kelvin.test' } })
			.catch((err: unknown) => err);
		expect(error).toMatchObject({ name: 'IdentityResolutionError', reason: 'handle_mismatch' });

		// a reported handle that is not text claims nothing either (no TypeError)
		const untyped = await createTestClient(server, {
			actorResolver: { resolve: async () => ({ did: alice.did, handle: 42 as never, pds: server.pdsUrl }) },
		});
		const untypedError = await untyped.client
			.authorize({ target: { type: 'account', identifier: 'kelvin.test' } })
			.catch((err: unknown) => err);
		expect(untypedError).toMatchObject({ name: 'IdentityResolutionError', reason: 'handle_mismatch' });
		expect(server.stats.par).toBe(0);
	});

	it('reports a failure to read the document again, for a handle claimed in other case, as the failure it is', async () => {
		// a resolver that exposes its DID documents but not its handles: the resolver's own read
		// finds the handle in other case; the check's read fails
		const shouting = shoutingResolver(1);
		const actorResolver = {
			resolve: shouting.resolve.bind(shouting),
			didDocumentResolver: shouting.didDocumentResolver,
		};
		const { client } = await createTestClient(server, { actorResolver });
		const error = await client
			.authorize({ target: { type: 'account', identifier: 'alice.test' } })
			.catch((err: unknown) => err);
		expect(error).toBeInstanceOf(IdentityResolutionError);
		// not handle_mismatch: nothing says the handle is not the account's
		expect(error).toMatchObject({ reason: 'unavailable', transient: true });
	});

	it('takes a handle or DID typed with @ or at://, and refuses anything else before any request', async () => {
		const asked: string[] = [];
		const upstream = actorResolverFor(server);
		const actorResolver: ActorResolver = {
			resolve: (actor, options) => {
				asked.push(actor);
				return upstream.resolve(actor, options);
			},
		};
		const { client } = await createTestClient(server, { actorResolver });
		for (const [typed, hint] of [
			['@alice.test', 'alice.test'],
			[' at://Alice.test\n', 'alice.test'],
			[`at://${alice.did}`, alice.did],
		] as const) {
			await client.authorize({ target: { type: 'account', identifier: typed } });
			expect(server.stats.parRequests.at(-1)!.params.login_hint).toBe(hint);
		}
		asked.length = 0;

		const refused = [
			'alice',
			'alice.test.',
			'bücher.test',
			'@203.0.113.9:8443',
			'localhost',
			alice.did.toUpperCase(),
			alice.did.replace('did:plc:', 'DID:PLC:'),
			'did:web:ALICE.example',
			'did:web:example.com:users:alice',
			'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
		];
		for (const typed of refused) {
			const error = await client
				.authorize({ target: { type: 'account', identifier: typed } })
				.catch((err: unknown) => err);
			expect(error, typed).toBeInstanceOf(IdentityResolutionError);
			expect(error, typed).toMatchObject({
				reason: 'invalid_identifier',
				transient: false,
				identifier: typed,
			});
		}
		for (const url of ['https://bsky.social', 'bsky.social://x', 'http:bsky.social']) {
			const error = await client
				.authorize({ target: { type: 'account', identifier: url } })
				.catch((err: unknown) => err);
			expect(error, url).toMatchObject({ reason: 'invalid_identifier' });
			expect((error as Error).message, url).toContain("{ type: 'pds', serviceUrl }");
		}
		expect(asked).toEqual([]);
		expect(server.stats.par).toBe(3);
	});

	it('quotes a refused input on one line of bounded length, so a logged error cannot forge log lines', async () => {
		const asked: string[] = [];
		const actorResolver: ActorResolver = {
			resolve: async (actor) => {
				asked.push(actor);
				throw new Error('not asked');
			},
		};
		const { client } = await createTestClient(server, { actorResolver });
		const refusal = async (identifier: string) =>
			(await client
				.authorize({ target: { type: 'account', identifier } })
				.catch((err: unknown) => err)) as IdentityResolutionError;

		const forged = await refusal('alice.test\n2026-12-05 ERROR admin password reset for bob');
		expect(forged).toMatchObject({ reason: 'invalid_identifier' });
		expect(forged.message).not.toContain('\n');
		expect(forged.identifier).toBe('alice.test\\u000a2026-12-05 ERROR admin password reset for bob');

		const huge = await refusal(`${'a'.repeat(1_000_000)}!`);
		expect(huge).toMatchObject({ reason: 'invalid_identifier' });
		expect(huge.identifier).toBe(`${'a'.repeat(256)}…`);
		expect(huge.message.length).toBeLessThan(400);

		// a bidi override (which reorders what a log viewer shows) is escaped too, and a cut never
		// leaves half of a character
		expect((await refusal('evil\u202etset.ecila')).identifier).toBe('evil\\u202etset.ecila');
		expect((await refusal(`${'a'.repeat(255)}😀!`)).identifier).toBe(`${'a'.repeat(255)}…`);
		// a did:web whose host is longer than a DNS name can be is not looked up
		const longHost = `did:web:${'a.'.repeat(200)}com`;
		expect(await refusal(longHost)).toMatchObject({ reason: 'invalid_identifier' });
		expect((await refusal('')).message).toMatch(/no handle or DID was given/);
		expect(asked).toEqual([]);
	});

	it('refuses handles under the top-level domains atproto disallows, before any request', async () => {
		const asked: string[] = [];
		const actorResolver: ActorResolver = {
			resolve: async (actor) => {
				asked.push(actor);
				return { did: alice.did, handle: actor as never, pds: server.pdsUrl };
			},
		};
		const { client } = await createTestClient(server, { actorResolver });
		for (const tld of ['local', 'arpa', 'invalid', 'localhost', 'internal', 'example', 'onion', 'alt']) {
			const error = await client
				.authorize({ target: { type: 'account', identifier: `alice.${tld.toUpperCase()}` } })
				.catch((err: unknown) => err);
			expect(error, tld).toBeInstanceOf(IdentityResolutionError);
			expect(error, tld).toMatchObject({ reason: 'invalid_identifier', transient: false });
			expect((error as Error).message, tld).toContain(`.${tld}`);
		}
		expect(asked).toEqual([]);
		// .test is allowed, for testing
		await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		expect(asked).toEqual(['alice.test']);
	});

	it('gives up on a handle that does not resolve within timeout, even with no signal and a resolver that ignores it', async () => {
		// a handle host that answers for ever, and ignores the signal it is given
		let resolving = 0;
		const actorResolver: ActorResolver = {
			resolve: () => {
				resolving++;
				return new Promise(() => {});
			},
		};
		const { client, states } = await createTestClient(server, { actorResolver, timeout: 200 });
		const error = await client
			.authorize({ target: { type: 'account', identifier: 'slow.test' } })
			.catch((err: unknown) => err);
		expect(resolving).toBe(1);
		expect(error).toBeInstanceOf(IdentityResolutionError);
		expect((error as IdentityResolutionError).cause).toMatchObject({ name: 'TimeoutError' });
		expect(server.stats.par).toBe(0);
		expect(states.map.size).toBe(0);

		// the caller's own signal still wins, with its own reason
		const controller = new AbortController();
		const aborted = client.authorize({
			target: { type: 'account', identifier: 'slow.test' },
			signal: controller.signal,
		});
		setTimeout(() => controller.abort(new Error('user left')), 20);
		await expect(aborted).rejects.toThrow('user left');
	});

	it('gives up on a state store that stalls when the signal aborts, and sends nothing to the server', async () => {
		const { client, states } = await createTestClient(server);
		const controller = new AbortController();
		// a store with no time limit of its own, whose connection is down: the visitor leaves while
		// it waits
		states.set = () => {
			setTimeout(() => controller.abort(new Error('user left')), 10);
			return new Promise<void>(() => {});
		};
		const signingIn = client.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			signal: controller.signal,
		});
		await expect(signingIn).rejects.toThrow('user left');
		expect(server.stats.par).toBe(0);
	});

	it('leaves no rejection unhandled when the caller aborts while the resolver runs', async () => {
		const controller = new AbortController();
		// the caller gives up during the resolution, and the resolver then fails in its turn
		const actorResolver: ActorResolver = {
			resolve: async () => {
				controller.abort(new Error('user left'));
				throw new Error('the resolver failed too');
			},
		};
		const { client } = await createTestClient(server, { actorResolver });
		const unhandled: unknown[] = [];
		const onUnhandled = (reason: unknown) => unhandled.push(reason);
		process.on('unhandledRejection', onUnhandled);
		try {
			await expect(
				client.authorize({
					target: { type: 'account', identifier: 'alice.test' },
					signal: controller.signal,
				}),
			).rejects.toThrow('user left');
			await new Promise((resolve) => setTimeout(resolve, 20));
			expect(unhandled).toEqual([]);
		} finally {
			process.off('unhandledRejection', onUnhandled);
		}
	});

	it('refuses redirected and oversized server metadata with a DiscoveryError', async () => {
		const { client } = await createTestClient(server);
		server.behaviour.redirectMetadata = true;
		const redirected = await client
			.authorize({ target: { type: 'account', identifier: 'alice.test' } })
			.catch((err: unknown) => err);
		expect(redirected).toBeInstanceOf(DiscoveryError);
		expect((redirected as DiscoveryError).code).toBe('redirect');

		server.reset();
		server.behaviour.oversizedMetadata = true;
		// a new client: the first one may have the good document cached
		const { client: fresh } = await createTestClient(server);
		const oversized = await fresh
			.authorize({ target: { type: 'account', identifier: 'alice.test' } })
			.catch((err: unknown) => err);
		expect((oversized as DiscoveryError).code).toBe('too_large');
	});

	it('gives up on a slow metadata document after its timeout, with a transient error', async () => {
		const { client } = await createTestClient(server, { timeout: 150 });
		server.behaviour.metadataDelayMs = 1500;
		const error = await client
			.authorize({ target: { type: 'account', identifier: 'alice.test' } })
			.catch((err: unknown) => err);
		expect(error).toBeInstanceOf(DiscoveryError);
		expect(error).toMatchObject({ code: 'timeout', transient: true });
	});

	it('rejects a timeout that is not a positive number', async () => {
		await expect(createTestClient(server, { timeout: 0 })).rejects.toThrow(/timeout/);
	});

	it('refuses plain-http servers unless allowHttp is set', async () => {
		const { client } = await createTestClient(server, { allowHttp: false });
		const error = await client
			.authorize({ target: { type: 'account', identifier: 'alice.test' } })
			.catch((err: unknown) => err);
		expect((error as DiscoveryError).code).toBe('insecure_protocol');
	});

	// only a token request, which spends a code or refresh token once sent, is waited for longer
	it('gives up on a slow PAR endpoint after the timeout itself, not three times it', async () => {
		// 1 s, not less: the discovery before it takes the same limit, which a loaded machine's
		// stall could pass
		const { client, states } = await createTestClient(server, { timeout: 1_000 });
		// past the timeout, and well before three times it
		server.behaviour.parDelayMs = 2_000;
		const error = await client
			.authorize({ target: { type: 'account', identifier: 'alice.test' } })
			.catch((err: unknown) => err);
		expect(error).toMatchObject({ name: 'OAuthTransientError', kind: 'timeout' });
		expect((error as Error).message).toContain('within 1000 ms');
		expect(states.map.size).toBe(0);
		// the server still answers the abandoned request: let it, before the next test
		await expect
			.poll(() => server.stats.requests.filter((request) => request.path === '/oauth/par').at(-1)?.status, {
				timeout: 10_000,
			})
			.not.toBe(0);
	});

	it('aborts when the caller gives up', async () => {
		const { client } = await createTestClient(server);
		server.behaviour.parDelayMs = 2000;
		const controller = new AbortController();
		const pending = client.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			signal: controller.signal,
		});
		setTimeout(() => controller.abort(new Error('user left')), 50);
		await expect(pending).rejects.toThrow('user left');
	});

	it('signs in as a loopback public client without a keyset', async () => {
		const client = new OAuthClient({
			metadata: { redirect_uris: ['http://127.0.0.1:8080/callback'], scope: 'atproto transition:generic' },
			stores: { sessions: new MapStore<StoredSession>(), states: new MapStore<StoredState>() },
			actorResolver: actorResolverFor(server),
			allowHttp: true,
		});
		// scope first, as the reference and @atcute/oauth-node-client 2.0.1 write it: the server binds
		// tokens to this text
		expect(client.metadata.client_id).toBe(
			'http://localhost?scope=atproto+transition%3Ageneric&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback',
		);
		expect(client.metadata.token_endpoint_auth_method).toBe('none');
		expect(client.jwks).toBeUndefined();

		const { url } = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		const { session } = await client.callback(await server.authorize(url, { did: alice.did }));
		const result = await new Client({ handler: session }).get('com.atproto.server.getSession', {});
		expect(result.ok && result.data.did).toBe(alice.did);
		server.assertNoRejections();
	});
});
