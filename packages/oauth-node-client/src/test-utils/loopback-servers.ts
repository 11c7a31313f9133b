import {
	createServer as createHttpServer,
	type IncomingMessage,
	type Server,
	type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect, type Socket } from 'node:net';

import type { TestTls } from '@atcute-oauth/test-oauth-server';

// a throw-away CA and a certificate for localhost and 127.0.0.1 it signed (openssl CLI)
export { createTestTls, type TestTls } from '@atcute-oauth/test-oauth-server';

/** a test server on 127.0.0.1 that counts its connections and requests. */
export interface LoopbackServer {
	server: Server;
	port: number;
	/** `http://localhost:port` or `https://localhost:port`. */
	origin: string;
	connections: number;
	requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
	close(): Promise<void>;
}

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

const track = async (server: Server, secure: boolean, handler: Handler): Promise<LoopbackServer> => {
	const sockets = new Set<Socket>();
	const state: LoopbackServer = {
		server,
		port: 0,
		origin: '',
		connections: 0,
		requests: [],
		close: () =>
			new Promise((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
	server.on(secure ? 'secureConnection' : 'connection', (socket: Socket) => {
		state.connections++;
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
	});
	server.on('request', async (request: IncomingMessage, response: ServerResponse) => {
		const chunks: Buffer[] = [];
		for await (const chunk of request) chunks.push(chunk as Buffer);
		const body = Buffer.concat(chunks).toString();
		state.requests.push({ method: request.method!, url: request.url!, headers: request.headers, body });
		handler(request, response, body);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	state.port = (server.address() as AddressInfo).port;
	state.origin = `${secure ? 'https' : 'http'}://localhost:${state.port}`;
	return state;
};

/** an http server on 127.0.0.1. */
export const startHttpServer = (handler: Handler): Promise<LoopbackServer> => {
	return track(createHttpServer(), false, handler);
};

/** an https server on 127.0.0.1 with the test certificate. */
export const startHttpsServer = (tls: TestTls, handler: Handler): Promise<LoopbackServer> => {
	return track(createHttpsServer({ cert: tls.cert, key: tls.key }) as unknown as Server, true, handler);
};

/** a minimal HTTP CONNECT proxy on 127.0.0.1 that records what it was asked to open. */
export interface ConnectProxy {
	url: string;
	tunnels: string[];
	authorizations: (string | undefined)[];
	close(): Promise<void>;
}

export const startConnectProxy = async (): Promise<ConnectProxy> => {
	const server = createHttpServer((_request, response) => {
		// a tunnel-only proxy: plain proxied requests are not what the transport sends
		response.writeHead(405).end();
	});
	const sockets = new Set<Socket>();
	const proxy: ConnectProxy = {
		url: '',
		tunnels: [],
		authorizations: [],
		close: () =>
			new Promise((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
	server.on('connect', (request: IncomingMessage, client: Socket, head: Buffer) => {
		proxy.tunnels.push(request.url!);
		proxy.authorizations.push(request.headers['proxy-authorization']);
		sockets.add(client);
		const url = new URL(`http://${request.url}`);
		const upstream = connect(Number(url.port), url.hostname.replace(/^\[|\]$/g, ''), () => {
			client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			upstream.write(head);
			upstream.pipe(client);
			client.pipe(upstream);
		});
		sockets.add(upstream);
		upstream.on('error', () => client.destroy());
		client.on('error', () => upstream.destroy());
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return proxy;
};
