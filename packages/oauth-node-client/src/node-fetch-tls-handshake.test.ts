import { execFile } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createSecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { createTestTls, type TestTls } from './test-utils/loopback-servers.ts';

const runFile = promisify(execFile);
const CHILD = fileURLToPath(new URL('./test-utils/tls-both-child.mjs', import.meta.url));
// a test that starts a node process waits on a loaded machine's process start-up, not on this code
const CHILD_TEST_TIMEOUT_MS = 30_000;

const local = createNodeFetch({ allowPrivateNetwork: true });

/** what a fetch's failure says: its own name and code, and its cause's code. */
const outcome = async (fetch: typeof globalThis.fetch, url: string) => {
	try {
		const response = await fetch(url);
		return { status: response.status, body: await response.text() };
	} catch (error) {
		const { name, code, cause } = error as Error & { code?: string; cause?: { code?: string } };
		return { error: name, code, cause: cause?.code };
	}
};

/** listens on 127.0.0.1, and closes every connection it has when closed. */
const listen = async (server: Server) => {
	const sockets = new Set<Socket>();
	server.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as AddressInfo).port,
		close: () =>
			new Promise<void>((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
};

describe('createNodeFetch: a TLS handshake the server refuses', () => {
	let tls: TestTls;
	beforeAll(async () => {
		tls = await createTestTls();
	});
	afterAll(() => tls.remove());

	it('names a plain HTTP server on an https port as fetch does (ERR_SSL_WRONG_VERSION_NUMBER)', async () => {
		const server = await listen(createHttpServer((_request, response) => response.end('plain')));
		try {
			const url = `https://localhost:${server.port}/`;
			const transport = await outcome(local, url);
			expect(transport).toEqual({ error: 'TypeError', cause: 'ERR_SSL_WRONG_VERSION_NUMBER' });
			expect(transport).toEqual(await outcome(fetch, url));
		} finally {
			await server.close();
		}
	});

	it('names a server that speaks only TLS 1.0 as fetch does (a protocol_version alert)', async () => {
		const server = await listen(
			createHttpsServer(
				// TLS 1.0 needs OpenSSL's lowest security level
				{
					cert: tls.cert,
					key: tls.key,
					minVersion: 'TLSv1',
					maxVersion: 'TLSv1',
					ciphers: 'DEFAULT@SECLEVEL=0',
				},
				(_request, response) => response.end('old'),
			) as unknown as Server,
		);
		try {
			const url = `https://localhost:${server.port}/`;
			const transport = await outcome(local, url);
			expect(transport).toEqual({ error: 'TypeError', cause: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
			expect(transport).toEqual(await outcome(fetch, url));
		} finally {
			await server.close();
		}
	});

	it(
		'refuses a server that speaks only h2 in the handshake, as fetch does, never reading its 403 as an answer',
		async () => {
			// a trusted certificate: the server's refusal, not ours, is what is tested
			const h2 = createSecureServer({ cert: tls.cert, key: tls.key }, (_request, response) =>
				response.end('h2'),
			);
			const server = await listen(h2 as unknown as Server);
			try {
				const { stdout } = await runFile(
					process.execPath,
					[
						CHILD,
						JSON.stringify({
							url: `https://localhost:${server.port}/`,
							options: { allowPrivateNetwork: true },
						}),
					],
					{ env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caPath } },
				);
				const { transport, fetch } = JSON.parse(stdout);
				expect(transport).toEqual({
					error: 'TypeError',
					cause: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL',
				});
				expect(transport).toEqual(fetch);
			} finally {
				await server.close();
			}
		},
		CHILD_TEST_TIMEOUT_MS,
	);
});
