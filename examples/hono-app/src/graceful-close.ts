import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * sets up a graceful stop of `server` (node:http or node:https), to call once it listens; returns
 * the stop. from the stop on, no connection takes a new request:
 * - one that never sent a byte is closed at once (Node's `closeIdleConnections` leaves it open);
 *   one idle after an answer, by `closeIdleConnections`; one whose request is still arriving is
 *   left to finish it;
 * - one with requests under way answers them all (pipelined ones too), the last with
 *   `Connection: close` when its head is not sent yet, and is ended after it: a client on a
 *   kept-alive connection (a browser, a reverse proxy's pool) would otherwise go on sending
 *   requests on it, each started anew, until the grace ran out.
 * the stop resolves once the requests under way have been answered, or after `graceMs`, when the
 * connections still open are cut.
 */
export const gracefulClose = (server: Server): ((graceMs: number) => Promise<void>) => {
	/** each open connection (the TLS socket on https, which is each request's `socket`), with its answers under way. */
	const connections = new Map<Socket, ServerResponse[]>();
	let stopping = false;
	// node:https reports the TCP socket as 'connection' and the TLS one over it as 'secureConnection'
	const secure = 'setSecureContext' in server;
	server.on(secure ? 'secureConnection' : 'connection', (socket: Socket) => {
		connections.set(socket, []);
		socket.once('close', () => connections.delete(socket));
	});
	server.on('request', (request, response: ServerResponse) => {
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
		const cutOff = setTimeout(() => server.closeAllConnections(), graceMs);
		try {
			await closed;
		} finally {
			clearTimeout(cutOff);
		}
	};
};
