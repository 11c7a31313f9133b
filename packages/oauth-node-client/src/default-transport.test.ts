import { describe, expect, it, vi } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { defaultTransport } from './default-transport.ts';
import { MemoryStore } from './index.ts';
import { OAuthClient } from './oauth-client.ts';
import { PrivateNetworkError } from './private-network-error.ts';
import { startHttpServer } from './test-utils/loopback-servers.ts';
import { usesNodeTransport } from './uses-node-transport.ts';

const node = { versions: { node: '20.20.2' }, userAgent: undefined };
const base = {
	metadata: { redirect_uris: ['http://127.0.0.1/cb'], scope: 'atproto' },
	stores: { sessions: new MemoryStore(), states: new MemoryStore() },
	actorResolver: { resolve: async () => ({ did: 'did:plc:x', handle: 'x.test', pds: 'https://pds.x' }) },
} as unknown as ConstructorParameters<typeof OAuthClient>[0];

describe('usesNodeTransport', () => {
	it.each([
		['Node', { versions: { node: '22.12.0' }, userAgent: 'Node.js/22' }, true],
		['Bun', { versions: { node: '24.3.0', bun: '1.4.0' }, userAgent: 'Bun/1.4.0' }, false],
		['Deno', { versions: { node: '24.2.0', deno: '2.9.0' }, userAgent: 'Deno/2.9.0' }, false],
		['Cloudflare Workers', { versions: { node: '22.0.0' }, userAgent: 'Cloudflare-Workers' }, false],
		['a runtime without process', { versions: undefined, userAgent: undefined }, false],
	])('%s: %s', (_name, facts, expected) => {
		expect(usesNodeTransport(facts)).toBe(expected);
	});

	it('is true in this test run (Node)', () => {
		expect(usesNodeTransport()).toBe(true);
	});

	it('makes createNodeFetch refuse to build a guard it cannot vouch for outside Node', () => {
		const versions = Object.getOwnPropertyDescriptor(process, 'versions')!;
		Object.defineProperty(process, 'versions', { ...versions, value: { ...process.versions, bun: '1.4.0' } });
		try {
			expect(() => createNodeFetch()).toThrow(/emulates/);
			expect(() => createNodeFetch({ allowPrivateNetwork: ['localhost'] })).toThrow(TypeError);
			expect(typeof createNodeFetch({ allowPrivateNetwork: true })).toBe('function');
		} finally {
			Object.defineProperty(process, 'versions', versions);
		}
		expect(typeof createNodeFetch()).toBe('function');
	});
});

describe('defaultTransport', () => {
	it("hands back the user's fetch untouched", () => {
		const fetch = async () => new Response();
		expect(defaultTransport({ ...base, fetch }, node)).toBe(fetch);
	});

	it('refuses allowPrivateNetwork beside a fetch of the user, which it could not guard', () => {
		const fetch = async () => new Response();
		expect(() => defaultTransport({ ...base, fetch, allowPrivateNetwork: true }, node)).toThrow(
			/allowPrivateNetwork.*createNodeFetch/,
		);
	});

	it('checks allowPrivateNetwork', () => {
		expect(() => defaultTransport({ ...base, allowPrivateNetwork: 'localhost' as never }, node)).toThrow(
			TypeError,
		);
		expect(() => defaultTransport({ ...base, allowPrivateNetwork: [''] }, node)).toThrow(TypeError);
	});

	it.each([
		['Bun', { versions: { node: '24.3.0', bun: '1.4.0' }, userAgent: undefined }],
		['Deno', { versions: { node: '24.2.0', deno: '2.9.0' }, userAgent: undefined }],
		['Workers', { versions: { node: '22.0.0' }, userAgent: 'Cloudflare-Workers' }],
	])(
		'on %s, sends through the global fetch, refusing a bad port as the Node transport does',
		async (_name, runtime) => {
			const global = vi.fn(async () => new Response('global'));
			vi.stubGlobal('fetch', global);
			try {
				const fetch = defaultTransport(base, runtime);
				expect(await (await fetch('https://pds.example/xrpc/x', { method: 'GET' })).text()).toBe('global');
				expect(global).toHaveBeenCalledWith('https://pds.example/xrpc/x', { method: 'GET' });

				// Deno's own fetch refuses it as a network failure (transient: retried for ever), Bun's sends it
				const error = await fetch('https://pds.example:1/oauth/token', { method: 'POST' }).catch((e) => e);
				expect(global).toHaveBeenCalledTimes(1);
				expect(error).toBeInstanceOf(TypeError);
				expect(error.message).toBe('fetch failed');
				expect(error.cause).toMatchObject({ message: 'bad port 1', transient: false });
			} finally {
				vi.unstubAllGlobals();
			}
		},
	);

	it.each([
		['Bun', { versions: { node: '24.3.0', bun: '1.4.0' }, userAgent: undefined }],
		['Deno', { versions: { node: '24.2.0', deno: '2.9.0' }, userAgent: undefined }],
		['Workers', { versions: { node: '22.0.0' }, userAgent: 'Cloudflare-Workers' }],
	])(
		'on %s, refuses an allowPrivateNetwork that would narrow a guard the global fetch does not have',
		(_name, runtime) => {
			for (const allowPrivateNetwork of [['pds.internal.example'], false]) {
				expect(() => defaultTransport({ ...base, allowPrivateNetwork }, runtime)).toThrow(
					/allowPrivateNetwork narrows the SSRF guard of the Node transport, which this runtime .* does not use/,
				);
			}
			// no guard, which is what the runtime has: its global fetch
			expect(typeof defaultTransport({ ...base, allowPrivateNetwork: true }, runtime)).toBe('function');
		},
	);

	it('on Node: a guarded transport by default, open under allowHttp or allowPrivateNetwork: true', async () => {
		const server = await startHttpServer((_request, response) => response.writeHead(200).end('ok'));
		try {
			const guarded = defaultTransport(base, node)!;
			await expect(guarded(`${server.origin}/`)).rejects.toBeInstanceOf(PrivateNetworkError);
			const listed = defaultTransport({ ...base, allowPrivateNetwork: ['localhost'] }, node)!;
			expect(await (await listed(`${server.origin}/`)).text()).toBe('ok');
			for (const open of [{ allowHttp: true }, { allowPrivateNetwork: true }]) {
				const fetch = defaultTransport({ ...base, ...open }, node)!;
				expect(await (await fetch(`http://127.0.0.1:${server.port}/`)).text()).toBe('ok');
			}
		} finally {
			await server.close();
		}
	});
});

describe('OAuthClient (facade): options', () => {
	it('refuses options that are not an object, naming them', () => {
		const make = OAuthClient as unknown as new (options?: unknown) => OAuthClient;
		expect(() => new make()).toThrow(new TypeError('OAuthClient options must be an object, got undefined'));
		expect(() => new make(null)).toThrow(new TypeError('OAuthClient options must be an object, got null'));
		expect(() => new make('https://app.example.com')).toThrow(/got string/);
	});
});

describe('OAuthClient (facade): the guard covers discovery and authorization server requests', () => {
	it('refuses a PDS on a private address, naming the host', async () => {
		const oauth = new OAuthClient(base);
		const error = await oauth
			.authorize({ target: { type: 'pds', serviceUrl: 'https://localhost:2/' } })
			.catch((e) => e);
		// a refusal on purpose: not transient, so no caller retries it
		expect(error).toMatchObject({ name: 'DiscoveryError', code: 'refused', transient: false });
		expect(error.cause).toBeInstanceOf(PrivateNetworkError);
		expect(error.cause).toMatchObject({ host: 'localhost', kind: 'loopback' });
	});

	it('off Node, refuses a server on a bad port as on Node: a refusal, not a failure to retry', async () => {
		// the facade reads the runtime as it is built: Bun's versions, Node's global fetch (whose own
		// refusal, a TypeError, the client would read as a network failure, as it reads Deno's)
		const versions = Object.getOwnPropertyDescriptor(process, 'versions')!;
		Object.defineProperty(process, 'versions', { ...versions, value: { ...process.versions, bun: '1.4.0' } });
		let oauth: OAuthClient;
		try {
			oauth = new OAuthClient(base);
		} finally {
			Object.defineProperty(process, 'versions', versions);
		}
		const error = await oauth
			.authorize({ target: { type: 'pds', serviceUrl: 'https://pds.example:1/' } })
			.catch((e) => e);

		expect(error).toMatchObject({ name: 'DiscoveryError', code: 'refused', transient: false });
		expect(error.cause.cause).toMatchObject({ message: 'bad port 1', transient: false });
	});

	it('lets a listed host through (the connection is then refused by the closed port, not the guard)', async () => {
		const oauth = new OAuthClient({ ...base, allowPrivateNetwork: ['localhost'] });
		const error = await oauth
			.authorize({ target: { type: 'pds', serviceUrl: 'https://localhost:2/' } })
			.catch((e) => e);
		expect(error).toMatchObject({ name: 'DiscoveryError', code: 'network' });
		expect(error.cause).not.toBeInstanceOf(PrivateNetworkError);
		expect(error.cause.cause.code).toBe('ECONNREFUSED');
	});
});
