import { type AddressInfo, createServer, type Socket } from 'node:net';

/** a TCP server on 127.0.0.1 that answers with whatever bytes a test writes, however malformed. */
export interface RawServer {
	/** `http://127.0.0.1:port`. */
	origin: string;
	/** the connections open now. */
	readonly open: number;
	close(): Promise<void>;
}

/**
 * calls `answer` with each chunk a connection reads: the head of each request, for the small
 * requests without a body the tests send (so a kept-alive connection is answered again).
 */
export const startRawServer = async (answer: (socket: Socket, head: string) => void): Promise<RawServer> => {
	const sockets = new Set<Socket>();
	const server = createServer((socket) => {
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
		socket.on('error', () => {});
		socket.on('data', (data) => answer(socket, data.toString('latin1')));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		get open() {
			return sockets.size;
		},
		close: () =>
			new Promise((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
};
