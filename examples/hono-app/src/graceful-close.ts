import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * sets up a graceful stop of `server`, to call once it listens; returns the stop. from the
 * stop on, no connection takes a new request: one with no request under way is closed at once
 * (Node's `closeIdleConnections` leaves one that never sent a request open), and every answer
 * closes its connection (`Connection: close`), those under way included: a client on a kept-alive
 * connection (a browser, a reverse proxy's pool) would otherwise go on sending requests on it,
 * each started anew, until the grace ran out. the stop resolves once the requests under way have
 * been answered, or after `graceMs`, when their connections are cut.
 */
export const gracefulClose = (server: Server): ((graceMs: number) => Promise<void>) => {
	/** each open connection, with how many of its requests are under way. */
	const connections = new Map<Socket, number>();
	const answering = new Set<ServerResponse>();
	server.on('connection', (socket: Socket) => {
		connections.set(socket, 0);
		socket.once('close', () => connections.delete(socket));
	});
	server.on('request', (request, response: ServerResponse) => {
		const socket = request.socket;
		connections.set(socket, (connections.get(socket) ?? 0) + 1);
		answering.add(response);
		response.once('close', () => {
			answering.delete(response);
			const left = (connections.get(socket) ?? 1) - 1;
			if (connections.has(socket)) connections.set(socket, left);
		});
	});
	return async (graceMs) => {
		const closed = new Promise<void>((resolve, reject) =>
			server.close((error) => (error ? reject(error) : resolve())),
		);
		for (const response of answering) {
			if (!response.headersSent) response.setHeader('connection', 'close');
		}
		for (const [socket, underWay] of connections) if (underWay === 0) socket.destroy();
		const cutOff = setTimeout(() => server.closeAllConnections(), graceMs);
		try {
			await closed;
		} finally {
			clearTimeout(cutOff);
		}
	};
};
