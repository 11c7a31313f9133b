import type { IncomingMessage, ServerResponse } from 'node:http';

import {
	LocalActorResolver,
	PlcDidDocumentResolver,
	WellKnownHandleResolver,
} from '@atcute/identity-resolver';
import { startTestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { createWellKnownHandleResolver } from './create-well-known-handle-resolver.ts';
import { IdentityResolutionError } from './index.ts';
import { PrivateNetworkError } from './private-network-error.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';
import { createTestServerClient } from './test-utils/test-server-client.ts';

const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';

/** the error, or the first cause in its chain, that `test` accepts. */
const causeWhere = (error: unknown, test: (err: Error) => boolean): Error | undefined => {
	for (let e = error; e instanceof Error; e = e.cause) {
		if (test(e)) return e;
	}
	return undefined;
};

describe('createWellKnownHandleResolver', () => {
	// one loopback server plays every handle host: `https://<host>/…` is sent to it as
	// `http://localhost:<port>/…` with the host it was meant for in `x-host`, as DNS and TLS would
	let server: LoopbackServer;
	const answers = new Map<string, (request: IncomingMessage, response: ServerResponse) => void>();
	const asked = () => server.requests.map((request) => `${request.headers['x-host']}${request.url}`);
	beforeAll(async () => {
		server = await startHttpServer((request, response) => {
			const answer = answers.get(`${request.headers['x-host']}${request.url}`);
			if (answer === undefined) response.writeHead(404).end();
			else answer(request, response);
		});
	});
	afterAll(() => server.close());

	/** `base`, given `https:` URLs of any host name, sent to the loopback server. */
	const mapped =
		(base: typeof fetch = fetch): typeof fetch =>
		(input, init) => {
			const url = new URL(input instanceof Request ? input.url : input);
			if (url.protocol !== 'https:') return base(url, init);
			// an IP address needs no DNS: asked as it is, over http
			if (/^[\d.]+$/.test(url.hostname)) return base(`http://${url.host}${url.pathname}`, init);
			const headers = new Headers(init?.headers);
			headers.set('x-host', url.host);
			return base(`http://localhost:${server.port}${url.pathname}${url.search}`, { ...init, headers });
		};
	const redirect =
		(status: number, location: string) => (_request: IncomingMessage, response: ServerResponse) =>
			response.writeHead(status, { location }).end('moved');
	const did = (_request: IncomingMessage, response: ServerResponse) =>
		response.writeHead(200, { 'content-type': 'text/plain' }).end(`${DID}\n`);
	const reset = () => {
		answers.clear();
		server.requests.length = 0;
	};

	it("follows a handle host's redirects, as the handle spec allows, where WellKnownHandleResolver fails", async () => {
		reset();
		answers.set(
			'alice.test/.well-known/atproto-did',
			redirect(301, 'https://www.alice.test/.well-known/atproto-did'),
		);
		answers.set('www.alice.test/.well-known/atproto-did', redirect(308, '/did.txt'));
		answers.set('www.alice.test/did.txt', redirect(302, 'https://did.example.com/alice'));
		answers.set('did.example.com/alice', did);

		const resolver = createWellKnownHandleResolver({ fetch: mapped() });
		expect(await resolver.resolve('alice.test')).toBe(DID);
		expect(asked()).toEqual([
			'alice.test/.well-known/atproto-did',
			'www.alice.test/.well-known/atproto-did',
			'www.alice.test/did.txt',
			'did.example.com/alice',
		]);

		// what it is for: the same host through @atcute/identity-resolver's own resolver
		const plain = new WellKnownHandleResolver({ fetch: mapped() });
		const error = await plain.resolve('alice.test').catch((err: unknown) => err);
		expect(causeWhere(error, (err) => err.message === 'unexpected redirect')).toBeDefined();
	});

	it('refuses a redirect to plain http, before asking it', async () => {
		reset();
		answers.set(
			'alice.test/.well-known/atproto-did',
			redirect(302, 'http://alice.test/.well-known/atproto-did'),
		);
		const resolver = createWellKnownHandleResolver({ fetch: mapped() });
		const error = await resolver.resolve('alice.test').catch((err: unknown) => err);
		expect(error).toBeInstanceOf(IdentityResolutionError);
		expect(error).toMatchObject({ reason: 'unavailable', identifier: 'alice.test' });
		expect((error as Error).message).toMatch(/redirected to http:, not https:/);
		expect(asked()).toEqual(['alice.test/.well-known/atproto-did']);
	});

	it('gives up past maxRedirects (a loop), and follows none with 0', async () => {
		reset();
		answers.set('alice.test/.well-known/atproto-did', redirect(307, '/.well-known/atproto-did'));
		for (const [maxRedirects, requests] of [
			[undefined, 6],
			[2, 3],
			[0, 1],
		] as const) {
			server.requests.length = 0;
			const resolver = createWellKnownHandleResolver({ fetch: mapped(), maxRedirects });
			const error = await resolver.resolve('alice.test').catch((err: unknown) => err);
			expect(error).toMatchObject({ name: 'IdentityResolutionError', reason: 'unavailable' });
			expect((error as Error).message).toContain(`more than ${maxRedirects ?? 5} redirects`);
			expect(server.requests).toHaveLength(requests);
		}
	});

	it('hands a 3xx that is no redirect, and a redirect with no Location, back as passing failures', async () => {
		reset();
		answers.set('alice.test/.well-known/atproto-did', (_request, response) => response.writeHead(302).end());
		answers.set('bob.test/.well-known/atproto-did', (_request, response) => response.writeHead(300).end());
		const resolver = createWellKnownHandleResolver({ fetch: mapped() });
		const missing = await resolver.resolve('alice.test').catch((err: unknown) => err);
		expect(missing).toMatchObject({ reason: 'unavailable' });
		expect((missing as Error).message).toMatch(/answered 302 with no Location/);
		// a 300 is an answer, not a redirect
		const multiple = await resolver.resolve('bob.test').catch((err: unknown) => err);
		expect(multiple).toMatchObject({ reason: 'unavailable' });
		expect((multiple as Error).message).toMatch(/answered 300$/);
		expect(asked()).toEqual(['alice.test/.well-known/atproto-did', 'bob.test/.well-known/atproto-did']);
	});

	it('reads the first line of a 200, trimmed: anything else is not_found, or unavailable when it may pass', async () => {
		reset();
		const answer = (status: number, body: string) => (_request: IncomingMessage, response: ServerResponse) =>
			response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
		answers.set('alice.test/.well-known/atproto-did', redirect(301, 'https://gone.test/'));
		answers.set('bob.test/.well-known/atproto-did', answer(200, `  ${DID}  \nsomething else`));
		answers.set('carol.test/.well-known/atproto-did', answer(200, '<html>hello</html>'));
		answers.set('dave.test/.well-known/atproto-did', answer(200, `${DID}${' '.repeat(3000)}`));
		answers.set('erin.test/.well-known/atproto-did', answer(200, 'did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1'));
		answers.set('frank.test/.well-known/atproto-did', answer(503, 'later'));
		answers.set('grace.test/.well-known/atproto-did', answer(429, 'slow down'));
		answers.set('heidi.test/.well-known/atproto-did', answer(403, 'no'));
		answers.set('ivan.test/.well-known/atproto-did', answer(200, 'did:web:ivan.test'));
		const resolver = createWellKnownHandleResolver({ fetch: mapped() });
		const outcome = (handle: `${string}.${string}`) =>
			resolver.resolve(handle).then(
				(found) => found,
				(err: IdentityResolutionError) => err.reason,
			);
		expect(await outcome('alice.test')).toBe('not_found');
		expect(await outcome('bob.test')).toBe(DID);
		expect(await outcome('carol.test')).toBe('not_found');
		// past 2 KB: a page served for every path, not a DID
		expect(await outcome('dave.test')).toBe('not_found');
		// a DID, but not of a method atproto supports
		expect(await outcome('erin.test')).toBe('not_found');
		expect(await outcome('frank.test')).toBe('unavailable');
		expect(await outcome('grace.test')).toBe('unavailable');
		expect(await outcome('heidi.test')).toBe('not_found');
		expect(await outcome('ivan.test')).toBe('did:web:ivan.test');

		// a did:web the client would refuse typed: a port on a public host, an IP address, no domain
		const refused = [
			'did:web:example.com%3A8443',
			'did:web:10.0.0.5',
			'did:web:intranet',
			'did:web:..',
			'did:web:Example.com',
			'did:web:service.local',
		];
		for (const [index, body] of refused.entries()) {
			answers.set(`judy${index}.test/.well-known/atproto-did`, answer(200, body));
			expect([body, await outcome(`judy${index}.test`)]).toEqual([body, 'not_found']);
		}
		// localhost, with its port, is for testing: the client decides (allowHttp)
		answers.set('kim.test/.well-known/atproto-did', answer(200, 'did:web:localhost%3A3000'));
		expect(await outcome('kim.test')).toBe('did:web:localhost%3A3000');
	});

	it('reads a handle host that has no address in DNS as not found, and a DNS that could not answer as passing', async () => {
		reset();
		// what the transport (and fetch) throw when the lookup of the host fails
		const lookupFailure = (code: string, hostname: string) =>
			new TypeError('fetch failed', {
				cause: Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, hostname }),
			});
		const failing: typeof fetch = async (input, init) => {
			const { hostname } = new URL(input instanceof Request ? input.url : input);
			if (hostname === 'typo.test' || hostname === 'gone.test') throw lookupFailure('ENOTFOUND', hostname);
			if (hostname === 'flaky.test') throw lookupFailure('EAI_AGAIN', hostname);
			// an outbound proxy whose own name does not resolve: the handle's host was never asked
			if (hostname === 'proxied.test') throw lookupFailure('ENOTFOUND', 'proxy.internal');
			return mapped()(input, init);
		};
		answers.set(
			'moved.test/.well-known/atproto-did',
			redirect(302, 'https://gone.test/.well-known/atproto-did'),
		);
		const resolver = createWellKnownHandleResolver({ fetch: failing });
		const reason = (handle: `${string}.${string}`) =>
			resolver.resolve(handle).then(
				() => 'resolved',
				(err: IdentityResolutionError) => err.reason,
			);
		// a typo: DNS answered that the name does not exist, as the DNS method reads it too
		expect(await reason('typo.test')).toBe('not_found');
		const error = await resolver.resolve('typo.test').catch((err: unknown) => err);
		expect(error).toMatchObject({ transient: false });
		expect((error as Error).message).toContain('typo.test has no address');
		// DNS could not answer for now, or was asked for another host than the handle's
		expect(await reason('flaky.test')).toBe('unavailable');
		expect(await reason('proxied.test')).toBe('unavailable');
		// a redirect's target that does not exist may be a moment's misstep of the handle's host
		expect(await reason('moved.test')).toBe('unavailable');
	});

	it("reads Deno's fetch error for a handle host with no address as not found, its failing DNS as passing", async () => {
		reset();
		// what Deno's fetch throws (2.9.6, glibc): no code, no hostname, only the lookup's text
		const denoFailure = (url: string, text: string) =>
			new TypeError('fetch failed', {
				cause: new Error(
					`error sending request for url (${url}): client error (Connect): dns error: failed to lookup address information: ${text}`,
				),
			});
		const failing: typeof fetch = async (input, init) => {
			const { hostname, href } = new URL(input instanceof Request ? input.url : input);
			if (hostname === 'typo.test' || hostname === 'gone.test')
				throw denoFailure(href, 'Name or service not known');
			if (hostname === 'flaky.test') throw denoFailure(href, 'Temporary failure in name resolution');
			return mapped()(input, init);
		};
		answers.set(
			'moved.test/.well-known/atproto-did',
			redirect(302, 'https://gone.test/.well-known/atproto-did'),
		);
		const reasonWith =
			(resolver: ReturnType<typeof createWellKnownHandleResolver>) => (handle: `${string}.${string}`) =>
				resolver.resolve(handle).then(
					() => 'resolved',
					(err: IdentityResolutionError) => err.reason,
				);
		// the message is believed from the global fetch only (Deno's, here played by `failing`)
		vi.stubGlobal('fetch', failing);
		try {
			const reason = reasonWith(createWellKnownHandleResolver({ fetch: globalThis.fetch }));
			expect(await reason('typo.test')).toBe('not_found');
			expect(await reason('flaky.test')).toBe('unavailable');
			expect(await reason('moved.test')).toBe('unavailable');
			// a fetch of the app's own may go through a proxy (Deno.createHttpClient) whose name did
			// not resolve, with the same text: an outage, not a typo
			const own = reasonWith(createWellKnownHandleResolver({ fetch: (input, init) => failing(input, init) }));
			expect(await own('typo.test')).toBe('unavailable');
			// on Deno with a proxy set (or no env permission to tell), the text may be the proxy's own
			const env = new Map([['HTTPS_PROXY', 'http://proxy.internal:3128']]);
			const granted = { state: 'granted' };
			vi.stubGlobal('Deno', {
				env: { get: (name: string) => env.get(name) },
				permissions: { querySync: () => granted },
			});
			expect(await reason('typo.test')).toBe('unavailable');
			env.clear();
			expect(await reason('typo.test')).toBe('not_found');
			granted.state = 'prompt';
			expect(await reason('typo.test')).toBe('unavailable');
		} finally {
			vi.unstubAllGlobals();
		}
	});

	it('sends every hop through its fetch: the SSRF guard refuses a redirect to a private address', async () => {
		reset();
		answers.set('alice.test/.well-known/atproto-did', redirect(302, `https://127.0.0.1:${server.port}/`));
		// the transport may reach the test server as localhost (the handle host), not as 127.0.0.1
		const resolver = createWellKnownHandleResolver({
			fetch: mapped(createNodeFetch({ allowPrivateNetwork: ['localhost'] })),
		});
		const error = await resolver.resolve('alice.test').catch((err: unknown) => err);
		// refused on purpose: a retry meets the same refusal
		expect(error).toMatchObject({ name: 'IdentityResolutionError', reason: 'refused', transient: false });
		expect(causeWhere(error, (err) => err instanceof PrivateNetworkError)).toMatchObject({
			host: '127.0.0.1',
			kind: 'loopback',
		});
		expect(asked()).toEqual(['alice.test/.well-known/atproto-did']);
	});

	it("passes the caller's signal to every hop", async () => {
		reset();
		const controller = new AbortController();
		answers.set('alice.test/.well-known/atproto-did', (request, response) => {
			controller.abort(new Error('gave up'));
			redirect(302, 'https://www.alice.test/')(request, response);
		});
		answers.set('www.alice.test/', did);
		const resolver = createWellKnownHandleResolver({ fetch: mapped() });
		const error = await resolver
			.resolve('alice.test', { signal: controller.signal })
			.catch((err: unknown) => err);
		// the caller's reason, as it is
		expect(error).toMatchObject({ message: 'gave up' });
		expect(asked()).toEqual(['alice.test/.well-known/atproto-did']);
	});

	it('signs an account in by a handle whose host redirects its well-known answer', async () => {
		reset();
		const oauthServer = await startTestOAuthServer();
		try {
			const alice = oauthServer.createAccount({ handle: 'alice.test' });
			answers.set('alice.test/.well-known/atproto-did', redirect(301, 'https://www.alice.test/atproto-did'));
			answers.set('www.alice.test/atproto-did', (_request, response) =>
				response.writeHead(200).end(alice.did),
			);
			const oauth = await createTestServerClient(oauthServer, {
				actorResolver: new LocalActorResolver({
					handleResolver: createWellKnownHandleResolver({ fetch: mapped() }),
					didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: oauthServer.plcUrl }),
				}),
			});
			const { url } = await oauth.authorize({ target: { type: 'account', identifier: 'alice.test' } });
			expect(url.searchParams.get('request_uri')).toBeTruthy();
			expect(oauthServer.stats.parRequests.at(-1)!.params.login_hint).toBe('alice.test');
			expect(asked()).toEqual(['alice.test/.well-known/atproto-did', 'www.alice.test/atproto-did']);
		} finally {
			await oauthServer.close();
		}
	});

	it('refuses options that are not what they should be, naming them', () => {
		const bad: [unknown, RegExp][] = [
			[undefined, /options must be an object \(got undefined\)/],
			[{}, /fetch must be a function, such as createNodeFetch\(\) \(got undefined\)/],
			[{ fetch, maxRedirects: -1 }, /maxRedirects must be an integer from 0 to 20 \(got -1\)/],
			[{ fetch, maxRedirects: 21 }, /maxRedirects must be an integer from 0 to 20 \(got 21\)/],
			[{ fetch, maxRedirects: 1.5 }, /\(got 1\.5\)/],
			[{ fetch, maxRedirects: '3' }, /\(got a string\)|\(got string\)/],
		];
		for (const [options, message] of bad) {
			expect(() => createWellKnownHandleResolver(options as never)).toThrow(message);
		}
	});
});
