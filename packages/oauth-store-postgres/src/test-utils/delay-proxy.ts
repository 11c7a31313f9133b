import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/** PostgreSQL's CancelRequest code (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102;

/** what a `DelayProxy` saw, in order. */
export type ProxyEvent =
	/** a CancelRequest naming the backend `pid` came in (and was passed on). */
	| { type: 'cancel'; pid: number }
	/** the client of the connection to backend `pid` closed it. */
	| { type: 'closed'; pid: number };

/** a TCP proxy in front of a PostgreSQL server that can hold back what clients send. */
export interface DelayProxy {
	/** the server's url, with the proxy's host and port. */
	readonly url: string;
	/**
	 * how long each chunk a client sends after its first (the startup message, or a cancel request)
	 * is held back, in milliseconds, read as it comes in; 0 (the default) passes chunks on at once.
	 * order is kept: a chunk never overtakes one sent before it on its connection.
	 */
	delayMs: number;
	/** cancel requests and closed connections, in the order they came. */
	readonly events: ProxyEvent[];
	/** resolves once every chunk held back so far has been passed on. */
	flushed(): Promise<void>;
	/** closes the proxy and every connection through it. */
	close(): Promise<void>;
}

/** the backend pid in a server's BackendKeyData ('K') message within `data`, else undefined. */
const backendPid = (data: Buffer): number | undefined => {
	for (let at = 0; at + 5 <= data.length; ) {
		const type = data[at]!;
		const length = data.readInt32BE(at + 1);
		if (type === 0x4b && at + 9 <= data.length) return data.readInt32BE(at + 5);
		at += 1 + length;
	}
	return undefined;
};

/**
 * starts a proxy on 127.0.0.1 in front of the server at `url`: a statement's bytes can be made to
 * reach the server late (after a cancel sent at once on a new connection), and the order of cancel
 * requests and closed connections can be read.
 */
export const startDelayProxy = async (url: string): Promise<DelayProxy> => {
	const target = new URL(url);
	const sockets = new Set<Socket>();
	const events: ProxyEvent[] = [];
	const pumps = new Set<Promise<void>>();

	const server = createServer((client) => {
		const upstream = connect(Number(target.port), target.hostname);
		sockets.add(client);
		sockets.add(upstream);
		let pid: number | undefined;
		let seen = Buffer.alloc(0);
		let first = true;
		let clientEnded = false;
		let upstreamEnded = false;
		const queue: { chunk: Buffer; at: number }[] = [];
		let pumping: Promise<void> | undefined;

		const pump = async (): Promise<void> => {
			while (queue.length > 0) {
				const { chunk, at } = queue[0]!;
				const wait = at - performance.now();
				if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
				queue.shift();
				if (!upstream.destroyed) upstream.write(chunk);
			}
			// the client's end goes after everything it sent before it
			if (clientEnded && !upstreamEnded) {
				upstreamEnded = true;
				upstream.end();
			}
		};
		const schedule = (): void => {
			if (pumping !== undefined) return;
			const running = pump().finally(() => {
				pumping = undefined;
				pumps.delete(running);
				if (queue.length > 0 || (clientEnded && !upstreamEnded)) schedule();
			});
			pumping = running;
			pumps.add(running);
		};

		client.on('data', (chunk: Buffer) => {
			if (first) {
				first = false;
				if (chunk.length === 16 && chunk.readInt32BE(4) === CANCEL_REQUEST_CODE) {
					events.push({ type: 'cancel', pid: chunk.readInt32BE(8) });
				}
				queue.push({ chunk, at: 0 });
			} else {
				queue.push({ chunk, at: performance.now() + proxy.delayMs });
			}
			schedule();
		});
		client.on('end', () => {
			clientEnded = true;
			schedule();
		});
		client.on('close', () => {
			if (pid !== undefined) events.push({ type: 'closed', pid });
			sockets.delete(client);
		});
		upstream.on('data', (chunk: Buffer) => {
			if (pid === undefined && seen.length < 65_536) {
				seen = Buffer.concat([seen, chunk]);
				pid = backendPid(seen);
			}
			if (!client.destroyed) client.write(chunk);
		});
		upstream.on('end', () => client.end());
		upstream.on('close', () => sockets.delete(upstream));
		// a connection reset is what some tests cause: close both sides, quietly
		client.on('error', () => upstream.destroy());
		upstream.on('error', () => client.destroy());
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const { port } = server.address() as { port: number };
	const proxied = new URL(url);
	proxied.hostname = '127.0.0.1';
	proxied.port = String(port);

	const proxy: DelayProxy = {
		url: proxied.toString(),
		delayMs: 0,
		events,
		flushed: async () => {
			while (pumps.size > 0) await Promise.all([...pumps]);
		},
		close: async () => {
			const closed = new Promise((resolve) => server.close(resolve));
			for (const socket of sockets) socket.destroy();
			await closed;
		},
	};
	return proxy;
};
