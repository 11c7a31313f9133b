import type { Socket } from 'node:net';

import { CONNECT_SIGNAL, type ConnectSignal } from './connect-signal.ts';
import type { CreateConnection } from './with-connect-timeout.ts';

/**
 * `create` with a socket it makes closed when the request it was made for is let go of before
 * node:http hands the socket over (its connection signal, under `CONNECT_SIGNAL`, aborts then). a
 * request destroyed in that tick leaves the socket to the agent: Node 20 and 22 close it, Node 24
 * puts it, still connecting, in the keep-alive pool, where a connection nobody asked for stays
 * open until the idle timeout. a socket handed over later (a proxy's tunnel) is the tunnel's to
 * give up, on the same signal.
 */
export const closedIfAbandoned = (create: CreateConnection): CreateConnection =>
	function createConnection(options, callback) {
		const socket = create.call(this, options, callback);
		const signal = (options as { [CONNECT_SIGNAL]?: ConnectSignal })[CONNECT_SIGNAL];
		if (socket !== undefined && signal !== undefined) {
			closeOnAbort(socket, signal);
		}
		return socket;
	};

const closeOnAbort = (socket: Socket, signal: ConnectSignal): void => {
	if (signal.aborted) {
		socket.destroy();
		return;
	}
	// the signal is the request's own and aborts only before the socket is handed over, so the
	// listener goes with the socket, and never closes one another request has taken from the pool
	signal.addEventListener('abort', () => socket.destroy(), { once: true });
};
