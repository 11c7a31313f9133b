import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

import type { TlsMaterial } from './create-tls-material.ts';

/** options for `startTlsProxy`. */
export interface TlsProxyOptions {
	/** the certificate to serve (`network.tls`). */
	tls: Pick<TlsMaterial, 'cert' | 'key' | 'hostnames'>;
	/** the public host name; default the certificate's first. */
	hostname?: string | undefined;
	/** where to forward, `http://127.0.0.1:<port>`; settable later through `target`. */
	target?: string | undefined;
}

/** a running TLS proxy. */
export interface TlsProxy {
	/** the public origin, `https://<hostname>:<port>` (no trailing slash). */
	url: string;
	/** the port it listens on, on 127.0.0.1. */
	port: number;
	/** where requests go, `http://127.0.0.1:<port>`. */
	target: string | undefined;
	/** stops listening and closes every connection. */
	close(): Promise<void>;
}

/**
 * an https front for a plain-http app on 127.0.0.1, like the tunnel or reverse proxy a real
 * deployment has: the app gets an `https://` public URL (which a confidential client's
 * `client_id` must be) while it listens on http. the port is known before the app starts, so
 * the app can be built with its public URL and set as `target` afterwards.
 */
export const startTlsProxy = async (options: TlsProxyOptions): Promise<TlsProxy> => {
	const hostname = options.hostname ?? options.tls.hostnames[0];
	if (hostname === undefined) throw new TypeError('the certificate names no host');

	const proxy: TlsProxy = {
		url: '',
		port: 0,
		target: options.target,
		close: async () => {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};

	const server = https.createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
		if (proxy.target === undefined) {
			res.writeHead(503, { 'content-type': 'text/plain' }).end('no target yet');
			return;
		}
		const upstream = http.request(
			new URL(req.url ?? '/', proxy.target),
			{
				method: req.method,
				headers: { ...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-host': req.headers.host ?? '' },
			},
			(response) => {
				res.writeHead(response.statusCode ?? 502, response.headers);
				response.pipe(res);
			},
		);
		upstream.on('error', () => {
			if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
			res.end('the app did not answer');
		});
		req.pipe(upstream);
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');

	proxy.port = (server.address() as AddressInfo).port;
	proxy.url = `https://${hostname}:${proxy.port}`;
	return proxy;
};
