import http from 'node:http';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import {
	type ConnectProxy,
	type LoopbackServer,
	startConnectProxy,
	startHttpServer,
} from './test-utils/loopback-servers.ts';
import { type RawServer, startRawServer } from './test-utils/raw-server.ts';

describe('createNodeFetch: a signal that is not an AbortSignal', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((_request, response) => response.writeHead(200).end('ok'));
	});
	afterAll(() => server.close());

	it.each([
		['the AbortController itself', () => new AbortController()],
		['an empty object', () => ({})],
	])('rejects %s with a TypeError naming signal, before any connection is opened', async (_label, make) => {
		// its own pool, so that a connection opened for this request would be a new one
		const fetch = createNodeFetch({ allowPrivateNetwork: true });
		const connections = server.connections;
		const requests = server.requests.length;

		const error = await fetch(`${server.origin}/`, { signal: make() as AbortSignal }).catch((e) => e);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toMatch(
			/^signal must be an AbortSignal \(pass controller\.signal, not the controller\)/,
		);
		// a connection opened and abandoned would fail (or be reset) with nobody listening
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(server.connections).toBe(connections);
		expect(server.requests).toHaveLength(requests);
		// and the same fetch works with the signal that was meant
		expect((await fetch(`${server.origin}/`, { signal: new AbortController().signal })).status).toBe(200);
		expect(server.requests).toHaveLength(requests + 1);
	});
});

describe('createNodeFetch: a request abandoned while it was set up', () => {
	let server: RawServer;
	beforeAll(async () => {
		// reads the request and never answers it
		server = await startRawServer(() => {});
	});
	afterAll(() => server.close());

	it('rejects with the throw and opens no connection, which could otherwise fail unheard', async () => {
		// an AbortSignal (so it passes the check) whose listener cannot be added, as a patched or
		// polyfilled one might
		const signal = new AbortController().signal;
		signal.addEventListener = () => {
			throw new Error('no listeners here');
		};
		const request = vi.spyOn(http, 'request');

		try {
			const fetch = createNodeFetch({ allowPrivateNetwork: true });
			await expect(fetch(`${server.origin}/`, { signal })).rejects.toThrow('no listeners here');
			// refused while it was set up, before the request was made: node:http had no connection
			// to open, and none to leave to its agent (Node 24 keeps such a one open in its pool)
			expect(request).not.toHaveBeenCalled();
		} finally {
			request.mockRestore();
		}

		// time for a loopback connect to be accepted: left open, the connection would still be there,
		// and the server's close of it an 'error' on a request nobody listens to (a crash)
		await new Promise((resolve) => setTimeout(resolve, 200));
		expect(server.open).toBe(0);
	});
});

describe('createNodeFetch: options', () => {
	it.each([
		['null', null, 'null', ''],
		[
			'a string (the proxy URL alone)',
			'http://user:secret@proxy.test:3128',
			'string',
			' (to set a proxy, pass',
		],
		['a URL', new URL('http://proxy.test:3128'), 'URL', ' (to set a proxy, pass'],
		['a list', [], 'an array', ''],
		['a number', 42, 'number', ''],
	])('refuses %s as the options, saying what it got and never the value', (_label, options, kind, hint) => {
		let error: unknown;
		try {
			createNodeFetch(options as never);
		} catch (err) {
			error = err;
		}
		expect(error).toBeInstanceOf(TypeError);
		expect((error as TypeError).message).toBe(
			`createNodeFetch options must be an object, got ${kind}${hint === '' ? '' : `${hint} { proxy: '...' })`}`,
		);
		expect((error as TypeError).message).not.toMatch(/secret|proxy\.test/);
	});

	it('takes no options, a literal, one without a prototype, a class instance or one made from defaults', () => {
		class FetchOptions {
			allowPrivateNetwork = true;
		}
		expect(typeof createNodeFetch(new FetchOptions())).toBe('function');
		expect(typeof createNodeFetch(Object.create({ allowPrivateNetwork: true }))).toBe('function');
		expect(typeof createNodeFetch()).toBe('function');
		expect(typeof createNodeFetch(undefined)).toBe('function');
		expect(typeof createNodeFetch({})).toBe('function');
		expect(typeof createNodeFetch(Object.assign(Object.create(null), { allowPrivateNetwork: true }))).toBe(
			'function',
		);
	});

	it('refuses an option it does not know, naming it and those it takes', () => {
		// a misspelt allowPrivateNetwork would leave the guard on (or a proxy unused) without a word
		expect(() => createNodeFetch({ allowPrivate: true } as never)).toThrow(
			new TypeError(
				'createNodeFetch(options) has no option "allowPrivate" (it takes allowPrivateNetwork, proxy, noProxy, inactivityTimeout, connectTimeout, maxRequestsPerOrigin)',
			),
		);
		expect(() => createNodeFetch({ timeout: 1000 } as never)).toThrow(/has no option "timeout"/);
	});

	it.each([
		['a user and password but no scheme', 'alice:pw@proxy.test:3128'],
		['a user alone but no scheme', 'alice@proxy.test:3128'],
		['a user and password but no scheme, as a URL', new URL('alice:pw@proxy.test:3128')],
	])('refuses a proxy with %s without showing the credentials', (_label, proxy) => {
		let error: unknown;
		try {
			createNodeFetch({ proxy });
		} catch (err) {
			error = err;
		}
		expect(error).toBeInstanceOf(TypeError);
		expect((error as Error).message).toMatch(/^proxy must be an http: URL/);
		expect((error as Error).message).not.toMatch(/alice|pw|proxy\.test/);
	});

	it('still names the scheme of a proxy URL that has one', () => {
		expect(() => createNodeFetch({ proxy: 'socks5://alice:pw@proxy.test:1080' })).toThrow(
			new TypeError('proxy must be an http: URL, got socks5:'),
		);
		expect(() => createNodeFetch({ proxy: 'https://alice:pw@proxy.test:3128' })).toThrow(
			new TypeError('proxy must be an http: URL, got https:'),
		);
	});

	it.each(['connectTimeout', 'inactivityTimeout'])(
		'refuses a %s longer than a timer can wait, and takes the longest it can',
		(name) => {
			for (const value of [2 ** 31, 3e9, 1e12]) {
				expect(() => createNodeFetch({ [name]: value })).toThrow(
					`${name} must be a positive number of milliseconds up to 2147483647, got ${value}`,
				);
			}
			expect(typeof createNodeFetch({ [name]: 2 ** 31 - 1 })).toBe('function');
		},
	);

	it('refuses a maxRequestsPerOrigin that is not a positive integer or Infinity, naming the value', () => {
		for (const value of [0, -1, 1.5, Number.NaN, Number.NEGATIVE_INFINITY, 2 ** 53, '2']) {
			expect(() => createNodeFetch({ maxRequestsPerOrigin: value as number })).toThrow(
				`maxRequestsPerOrigin must be a positive integer, or Infinity for no limit, got ${value}`,
			);
		}
		for (const value of [1, 256, Number.POSITIVE_INFINITY]) {
			expect(typeof createNodeFetch({ maxRequestsPerOrigin: value })).toBe('function');
		}
	});
});

describe('createNodeFetch: the longest connectTimeout through a proxy', () => {
	let server: LoopbackServer;
	let proxy: ConnectProxy;
	beforeAll(async () => {
		server = await startHttpServer((_request, response) => response.writeHead(200).end('hello'));
		proxy = await startConnectProxy();
	});
	afterAll(async () => {
		await server.close();
		await proxy.close();
	});

	it('opens the tunnel (a longer one would have timed out at once)', async () => {
		const fetch = createNodeFetch({
			allowPrivateNetwork: true,
			proxy: proxy.url,
			connectTimeout: 2 ** 31 - 1,
		});

		const response = await fetch(`http://127.0.0.1:${server.port}/`);

		expect(await response.text()).toBe('hello');
		expect(proxy.tunnels).toEqual([`127.0.0.1:${server.port}`]);
	});
});

describe('createNodeFetch: a Request whose body was read already', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((_request, response) => response.writeHead(200).end('ok'));
	});
	afterAll(() => server.close());

	it('is refused with a TypeError, as fetch refuses it, rather than sent with an empty body', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true });
		const request = new Request(`${server.origin}/`, { method: 'POST', body: 'the record' });
		await request.text();
		const requests = server.requests.length;
		const error = await fetch(request).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(TypeError);
		expect((error as Error).message).toBe('the Request has been used already: its body was read');
		expect(server.requests).toHaveLength(requests);
		// with init, as fetch: building the new Request refuses it too, unless init gives a body
		await expect(fetch(request, { headers: { 'x-more': '1' } })).rejects.toThrow(TypeError);
		const fresh = await fetch(request, { method: 'POST', body: 'a new record' });
		expect(fresh.status).toBe(200);
		expect(server.requests).toHaveLength(requests + 1);
	});
});
