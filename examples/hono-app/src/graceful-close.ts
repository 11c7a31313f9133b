import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * sets up a graceful stop of `server` (node:http or node:https), to call once it listens; returns
 * the stop. from the stop on, no connection takes a new request:
 * - one that never sent a byte is closed at once (Node's `closeIdleConnections` leaves it open),
 *   as is a TLS connection whose handshake ends after the stop; one idle after an answer, by
 *   `closeIdleConnections`; one whose request is still arriving is left to finish it;
 * - every request answered from the stop on (pipelined ones too) gets `Connection: close` when
 *   its head is not sent yet, and its connection is ended after its last answer: a client on a
 *   kept-alive connection (a browser, a reverse proxy's pool) would otherwise go on sending
 *   requests on it, each started anew, until the grace ran out.
 * the stop resolves once the requests under way have been answered, or after `graceMs`, when every
 * connection still open (one still in its TLS handshake included) is cut.
 */
export const gracefulClose = (server: Server): ((graceMs: number) => Promise<void>) => {
	/** each TCP connection, the ones in a TLS handshake included (which the server does not count). */
	const sockets = new Set<Socket>();
	/** each connection requests come on (the TLS socket on https), with its answers under way. */
	const connections = new Map<Socket, ServerResponse[]>();
	let stopping = false;
	server.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
	});
	// node:https reports the TCP socket as 'connection' and the TLS one over it as 'secureConnection'
	const secure = 'setSecureContext' in server;
	server.on(secure ? 'secureConnection' : 'connection', (socket: Socket) => {
		// a handshake ended after the stop: no request is taken on it
		if (stopping) return void socket.destroy();
		connections.set(socket, []);
		socket.once('close', () => connections.delete(socket));
	});
	server.on('request', (request, response: ServerResponse) => {
		// a request that was still arriving at the stop, or pipelined behind one under way
		if (stopping) response.setHeader('connection', 'close');
		const socket = request.socket;
		const underWay = connections.get(socket);
		if (underWay === undefined) return;
		underWay.push(response);
		response.once('close', () => {
			underWay.splice(underWay.indexOf(response), 1);
			// its last answer is out: no further request is taken on it
			if (stopping && underWay.length === 0) socket.end();
		});
	});
	return async (graceMs) => {
		stopping = true;
		const closed = new Promise<void>((resolve, reject) =>
			server.close((error) => (error ? reject(error) : resolve())),
		);
		server.closeIdleConnections();
		for (const [socket, underWay] of connections) {
			const last = underWay.at(-1);
			if (last === undefined) {
				if (socket.bytesRead === 0) socket.destroy();
			} else if (!last.headersSent) {
				last.setHeader('connection', 'close');
			}
		}
		const cutOff = setTimeout(() => {
			server.closeAllConnections();
			for (const socket of sockets) socket.destroy();
		}, graceMs);
		try {
			await closed;
		} finally {
			clearTimeout(cutOff);
		}
	};
};
