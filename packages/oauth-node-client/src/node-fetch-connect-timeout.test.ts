import dns from 'node:dns';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type ConnectProxy, startConnectProxy } from './test-utils/loopback-servers.ts';
import { type RawServer, startRawServer } from './test-utils/raw-server.ts';
import { startUnacceptingPort, type UnacceptingPort } from './test-utils/unaccepting-port.ts';

describe('createNodeFetch: a connection that does not open', () => {
	let pending: UnacceptingPort;
	beforeAll(async () => {
		pending = await startUnacceptingPort();
	});
	afterAll(() => pending.close());

	it('waits past the 4 s idle-connection timeout for a connect, then says the connect timed out', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, connectTimeout: 5_000 });
		const started = Date.now();

		const error = await fetch(`http://127.0.0.1:${pending.port}/`).catch((e) => e);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.cause.message).toBe('connect timed out after 5000 ms');
		expect(Date.now() - started).toBeGreaterThanOrEqual(4_900);
	}, 10_000);

	it('gives up after connectTimeout', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, connectTimeout: 200 });
		const started = Date.now();

		const error = await fetch(`http://127.0.0.1:${pending.port}/`).catch((e) => e);

		expect(error.cause.message).toBe('connect timed out after 200 ms');
		expect(Date.now() - started).toBeLessThan(2_000);
	});

	it('checks connectTimeout', () => {
		expect(() => createNodeFetch({ connectTimeout: 0 })).toThrow(/connectTimeout/);
		expect(() => createNodeFetch({ connectTimeout: Number.NaN })).toThrow(/connectTimeout/);
	});
});

describe('createNodeFetch: a TLS handshake that never finishes', () => {
	let silent: RawServer;
	let proxy: ConnectProxy;
	beforeAll(async () => {
		// accepts the connection, reads the ClientHello, never answers it
		silent = await startRawServer(() => {});
		proxy = await startConnectProxy();
	});
	afterAll(async () => {
		await proxy.close();
		await silent.close();
	});

	it.each([
		['directly', false],
		['through a proxy', true],
	])(
		'%s: fails after connectTimeout, the handshake included, and closes the connection',
		async (_, proxied) => {
			const fetch = createNodeFetch({
				allowPrivateNetwork: true,
				proxy: proxied ? proxy.url : undefined,
				connectTimeout: 300,
				// the connection is silent all along: this is not what ends it
				inactivityTimeout: 60_000,
			});
			const started = Date.now();

			const error = await fetch(`https://127.0.0.1:${new URL(silent.origin).port}/`, {
				signal: AbortSignal.timeout(4_000),
			}).catch((e) => e);

			expect(error).toBeInstanceOf(TypeError);
			expect(error.cause.message).toBe('connect timed out after 300 ms');
			expect(Date.now() - started).toBeGreaterThanOrEqual(250);
			expect(Date.now() - started).toBeLessThan(2_000);
			await expect.poll(() => silent.open).toBe(0);
		},
	);
});

describe('createNodeFetch: a target name whose lookup never answers, through a proxy', () => {
	let proxy: RawServer;
	const realLookup = dns.lookup;
	beforeAll(async () => {
		proxy = await startRawServer(() => {});
		// a resolver that drops the query (the guarded lookup resolves the target before the tunnel)
		dns.lookup = ((hostname: string, ...rest: unknown[]) => {
			if (hostname === 'hangs.test') return;
			return (realLookup as (...args: unknown[]) => void)(hostname, ...rest);
		}) as typeof dns.lookup;
	});
	afterAll(() => {
		dns.lookup = realLookup;
		return proxy.close();
	});

	it('fails the fetch after connectTimeout, the lookup included, without asking the proxy', async () => {
		const fetch = createNodeFetch({ proxy: proxy.origin, connectTimeout: 200 });
		const started = Date.now();

		const error = await fetch('http://hangs.test/').catch((e) => e);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.cause.message).toBe('the proxy did not open a tunnel to hangs.test:80 within 200 ms');
		expect(Date.now() - started).toBeLessThan(2_000);
		expect(proxy.open).toBe(0);
	});
});

describe('createNodeFetch: a proxy that does not answer CONNECT', () => {
	let proxy: RawServer;
	beforeAll(async () => {
		// reads the CONNECT request and never answers it
		proxy = await startRawServer(() => {});
	});
	afterAll(() => proxy.close());

	it('fails the fetch after connectTimeout and closes the connection to the proxy', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, proxy: proxy.origin, connectTimeout: 200 });

		const error = await fetch('http://tunnel.test/').catch((e) => e);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.cause.message).toBe('the proxy did not open a tunnel to tunnel.test:80 within 200 ms');
		await expect.poll(() => proxy.open).toBe(0);
	});

	it('rejects with the signal reason on abort and closes the connection to the proxy', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, proxy: proxy.origin });
		const controller = new AbortController();
		const pending = fetch('http://tunnel.test/', { signal: controller.signal });
		await expect.poll(() => proxy.open).toBe(1);

		controller.abort();

		await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
		await expect.poll(() => proxy.open).toBe(0);
	});
});
