import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net';

/** a loopback TCP proxy whose path a test can drop silently, as a NAT, firewall or pulled cable does. */
export interface BlackholeProxy {
	/** `<host>:<port>` of the proxy, for `redis://` or a PostgreSQL `host`/`port`. */
	readonly host: string;
	readonly port: number;
	/**
	 * the path of every open connection goes silent: nothing passes either way, no FIN, no RST, both
	 * sockets stay open. what a side sends meanwhile is held, as its kernel would keep retransmitting
	 * it, and delivered on `restore()`, unless that side reset its connection meanwhile (an RST
	 * discards what its kernel had not delivered). connections made later pass.
	 */
	blackhole(): void;
	/**
	 * the path is back: what was held is delivered, in order, and traffic passes again. resolves
	 * once done, after the events already on their way (an RST sent just before) were seen.
	 */
	restore(): Promise<void>;
	/** closes the proxy and every connection through it. */
	close(): Promise<void>;
}

interface Link {
	silent: boolean;
	/** what the client sent while silent, for the server. */
	up: Buffer[];
	/** what the server sent while silent, for the client. */
	down: Buffer[];
	/** the client reset (RST) its connection while silent: what it sent never arrives. */
	reset: boolean;
	/** the client closed (FIN) its connection while silent: delivered after what it sent. */
	ended: boolean;
	client: Socket;
	upstream: Socket;
}

/** starts a proxy on 127.0.0.1 to `127.0.0.1:<port>`. */
export const startBlackholeProxy = async (port: number): Promise<BlackholeProxy> => {
	const links = new Set<Link>();
	const server = createServer((client) => {
		const upstream = createConnection({ host: '127.0.0.1', port });
		const link: Link = { silent: false, up: [], down: [], reset: false, ended: false, client, upstream };
		links.add(link);
		client.on('error', (err: NodeJS.ErrnoException) => {
			if (link.silent && err.code === 'ECONNRESET') {
				// an RST from the client's kernel: what it held is gone, and the RST is lost too
				link.reset = true;
				link.up.length = 0;
				return;
			}
			upstream.destroy();
		});
		upstream.on('error', () => client.destroy());
		client.on('close', () => {
			if (!link.silent) upstream.destroy();
		});
		upstream.on('close', () => {
			links.delete(link);
			client.destroy();
		});
		client.on('end', () => {
			if (link.silent) link.ended = true;
			else upstream.end();
		});
		client.on('data', (chunk: Buffer) => {
			if (link.silent) link.up.push(chunk);
			else upstream.write(chunk);
		});
		upstream.on('data', (chunk: Buffer) => {
			if (link.silent) link.down.push(chunk);
			else if (!client.destroyed) client.write(chunk);
		});
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	const { port: own } = server.address() as AddressInfo;

	return {
		host: '127.0.0.1',
		port: own,
		blackhole: () => {
			for (const link of links) link.silent = true;
		},
		restore: async () => {
			// an RST a client sent just before is on the loopback already: seen before anything is
			// delivered, as the kernel that sent it has discarded what it held
			await new Promise((resolve) => setImmediate(resolve));
			await new Promise((resolve) => setImmediate(resolve));
			for (const link of links) {
				link.silent = false;
				if (link.reset) {
					// the server side never heard of the reset; its next packet would be answered with one
					link.upstream.destroy();
					continue;
				}
				for (const chunk of link.up.splice(0)) link.upstream.write(chunk);
				if (link.ended) link.upstream.end();
				if (link.client.destroyed) {
					link.upstream.destroy();
					continue;
				}
				for (const chunk of link.down.splice(0)) link.client.write(chunk);
			}
		},
		close: () =>
			new Promise<void>((resolve) => {
				for (const link of links) {
					link.client.destroy();
					link.upstream.destroy();
				}
				server.close(() => resolve());
			}),
	};
};
