import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net';

/** a loopback TCP proxy in front of a Redis server, whose link a test can break in several ways. */
export interface StallingProxy {
	/** `redis://127.0.0.1:<port>` of the proxy. */
	readonly url: string;
	/** holds back every answer from now on; commands still reach the server and run there. */
	stall(): void;
	/** delivers the answers held back, in order, and passes answers on again. */
	resume(): void;
	/** commands still reach the server and run there; their answers are thrown away while on. */
	dropReplies(on: boolean): void;
	/** a partition: nothing passes either way from now on, and every connection stays open. */
	silence(): void;
	/** closes every connection through the proxy; it goes on accepting new ones. */
	cut(): void;
	/** how many chunks of answers were passed on to clients so far (held-back ones once delivered). */
	readonly delivered: number;
	/** closes the proxy and every connection through it. */
	close(): Promise<void>;
}

/**
 * starts a proxy on 127.0.0.1 to the Redis server on `port` (127.0.0.1). stalled, it looks to a
 * client like a Redis that stopped answering over a connection that is still up, while the
 * server goes on executing what it receives: a lost or late answer, not a lost command.
 */
export const startStallingProxy = async (port: number): Promise<StallingProxy> => {
	let stalled = false;
	let dropping = false;
	let silent = false;
	let delivered = 0;
	const held: Array<() => void> = [];
	const sockets = new Set<Socket>();
	const track = (socket: Socket): void => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		// a connection the test closes under a client is what it means to do
		socket.on('error', () => {});
	};

	const server = createServer((client) => {
		const upstream = createConnection({ host: '127.0.0.1', port });
		track(client);
		track(upstream);
		client.on('close', () => upstream.destroy());
		upstream.on('close', () => client.destroy());
		client.on('data', (chunk: Buffer) => {
			if (!silent) upstream.write(chunk);
		});
		const deliver = (chunk: Buffer): void => {
			delivered++;
			client.write(chunk);
		};
		upstream.on('data', (chunk: Buffer) => {
			if (silent || dropping) return;
			if (stalled) held.push(() => deliver(chunk));
			else deliver(chunk);
		});
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	const { port: own } = server.address() as AddressInfo;

	return {
		url: `redis://127.0.0.1:${own}`,
		stall: () => {
			stalled = true;
		},
		resume: () => {
			stalled = false;
			for (const release of held.splice(0)) release();
		},
		dropReplies: (on) => {
			dropping = on;
		},
		silence: () => {
			silent = true;
		},
		cut: () => {
			for (const socket of sockets) socket.destroy();
		},
		get delivered() {
			return delivered;
		},
		close: () =>
			new Promise<void>((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
};
