import { readFile } from 'node:fs/promises';
import { Agent, createServer, request, type Server } from 'node:https';
import type { AddressInfo, LookupFunction } from 'node:net';
import type { TLSSocket } from 'node:tls';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
	type ConnectProxy,
	createTestTls,
	startConnectProxy,
	type TestTls,
} from '../test-utils/loopback-servers.ts';
import { loadNodeHttpModules } from './node-http-modules.ts';
import { createProxyTunnel } from './proxy-tunnel.ts';

// what the guarded lookup would answer, for a name the test certificate does not carry too
const lookup = ((_host: string, _options: unknown, callback: (e: null, a: string, f: number) => void) =>
	callback(null, '127.0.0.1', 4)) as unknown as LookupFunction;

/**
 * an agent (trusting the test CA, which the transport's cannot be told to) whose connections go
 * through `proxy`, as the transport's do; keep-alive off, so each request opens a new one.
 */
const tunnelledAgent = async (proxy: ConnectProxy, ca?: Buffer) => {
	const agent = new Agent(ca === undefined ? { keepAlive: false } : { ca, keepAlive: false });
	const modules = await loadNodeHttpModules();
	Object.assign(agent, {
		createConnection: createProxyTunnel(
			modules,
			new URL(proxy.url),
			undefined,
			true,
			lookup,
			() => false,
			5_000,
		),
	});
	return agent;
};

/** a GET through `agent`: the body, or the failure's code. */
const get = (agent: Agent, host: string, port: number) =>
	new Promise<string>((resolve) => {
		request({ host, port, path: '/', agent }, (response) => {
			let body = '';
			response.setEncoding('utf8');
			response.on('data', (chunk: string) => (body += chunk));
			response.once('end', () => resolve(body));
		})
			.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
			.end();
	});

describe('createProxyTunnel: TLS through the tunnel', () => {
	let tls: TestTls;
	let ca: Buffer;
	let server: Server;
	let port: number;
	let proxy: ConnectProxy;
	// for each TLS connection the server completed: whether it resumed a session
	const resumed: boolean[] = [];
	beforeAll(async () => {
		tls = await createTestTls();
		ca = await readFile(tls.caPath);
		server = createServer({ cert: tls.cert, key: tls.key }, (_request, response) => response.end('ok'));
		server.on('secureConnection', (socket: TLSSocket) => resumed.push(socket.isSessionReused()));
		server.on('tlsClientError', () => {});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		port = (server.address() as AddressInfo).port;
		proxy = await startConnectProxy();
	});
	afterAll(async () => {
		await proxy.close();
		server.closeAllConnections();
		await new Promise((resolve) => server.close(resolve));
		await tls.remove();
	});

	it("resumes the agent's TLS session on each new connection, as a direct one does", async () => {
		const agent = await tunnelledAgent(proxy, ca);
		resumed.length = 0;
		proxy.tunnels.length = 0;

		for (let i = 0; i < 4; i++) expect(await get(agent, 'localhost', port)).toBe('ok');

		// four connections, each through its own tunnel to the checked address
		expect(proxy.tunnels).toEqual(Array(4).fill(`127.0.0.1:${port}`));
		expect(resumed).toEqual([false, true, true, true]);
	});

	it('still checks the certificate: a name it does not carry is refused, a session cached or not', async () => {
		const agent = await tunnelledAgent(proxy, ca);
		expect(await get(agent, 'localhost', port)).toBe('ok');

		expect(await get(agent, 'wrong.test', port)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
		// and a CA the agent does not trust is refused
		const untrusting = await tunnelledAgent(proxy);
		expect(await get(untrusting, 'localhost', port)).toMatch(/CERT|SIGNATURE|SELF_SIGNED/);
	});
});
