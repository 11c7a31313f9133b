import type { AddressInfo } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import {
	createTestTls,
	type LoopbackServer,
	startHttpServer,
	type TestTls,
} from './test-utils/loopback-servers.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

describe("createNodeFetch: the Host header is the URL's, as fetch sends it", () => {
	let server: LoopbackServer;
	let other: LoopbackServer;
	beforeAll(async () => {
		// each answers with the Host it was sent; /away redirects to the other origin
		other = await startHttpServer((request, response) => response.writeHead(200).end(request.headers.host));
		server = await startHttpServer((request, response) => {
			if (request.url === '/away') {
				response.writeHead(302, { location: `http://127.0.0.1:${other.port}/` }).end();
			} else {
				response.writeHead(200).end(request.headers.host);
			}
		});
	});
	afterAll(async () => {
		await server.close();
		await other.close();
	});

	it.each([
		['a record', () => ({ Host: 'evil.example' })],
		['a list', () => [['host', 'evil.example']] as [string, string][]],
		['Headers', () => new Headers({ host: 'evil.example' })],
	])("ignores a caller's Host given as %s", async (_kind, headers) => {
		const response = await local(`${server.origin}/`, { headers: headers() });

		expect(await response.text()).toBe(`localhost:${server.port}`);
	});

	it("ignores a Request's Host", async () => {
		const request = new Request(`${server.origin}/`, { headers: { host: 'evil.example' } });

		expect(await (await local(request)).text()).toBe(`localhost:${server.port}`);
	});

	it('sends the new origin its own Host after a redirect', async () => {
		const response = await local(`${server.origin}/away`, { headers: { host: 'evil.example' } });

		expect(response.redirected).toBe(true);
		expect(await response.text()).toBe(`127.0.0.1:${other.port}`);
	});
});

describe("createNodeFetch: the TLS server name is the URL's host, whatever Host a caller gives", () => {
	let tls: TestTls;
	let server: TlsServer;
	let port: number;
	// the names the server was asked for (SNI): the certificate is checked against the same one
	const names: string[] = [];
	beforeAll(async () => {
		tls = await createTestTls();
		const context = createSecureContext({ cert: tls.cert, key: tls.key });
		server = createTlsServer({
			cert: tls.cert,
			key: tls.key,
			SNICallback: (name, callback) => {
				names.push(name);
				callback(null, context);
			},
		});
		server.on('tlsClientError', () => {});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		port = (server.address() as AddressInfo).port;
	});
	afterAll(async () => {
		await new Promise((resolve) => server.close(resolve));
		await tls.remove();
	});

	it('asks for localhost, not evil.example', async () => {
		// the test CA is not trusted here: the handshake fails after the name was sent
		await local(`https://localhost:${port}/`, { headers: { host: 'evil.example' } }).catch(() => {});

		expect(names).toEqual(['localhost']);
	});
});
