import type { ClientRequest, ClientRequestArgs } from 'node:http';
import type { LookupFunction, Socket } from 'node:net';

import { CONNECT_SIGNAL, type ConnectSignal } from './connect-signal.ts';
import type { BypassesProxy } from './no-proxy.ts';
import { isIP } from './node-builtin.ts';
import type { NodeHttpModules } from './node-http-modules.ts';

type Callback = (error: Error | null, socket?: Socket) => void;

/**
 * the `Proxy-Authorization` header for a proxy URL's user info, or `undefined` without one. read
 * when the fetch is made, so a bad one fails there: a URL keeps a stray `%` as it is, and decoding
 * it on the first request left that request failed and later ones sent around the proxy.
 * @throws {TypeError} when the user name or password is not valid percent-encoding (the message
 *   never shows either)
 */
export const proxyAuthorizationOf = (proxy: URL): string | undefined => {
	if (proxy.username === '' && proxy.password === '') return undefined;
	let credentials: string;
	try {
		// a URL's user info is percent-encoded; the header wants it decoded
		credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
	} catch {
		throw new TypeError(
			'proxy has a user name or password that is not valid percent-encoding: write a literal % as %25',
		);
	}
	return `Basic ${Buffer.from(credentials).toString('base64')}`;
};

/**
 * a `createConnection` for http/https agents that opens each connection through an HTTP proxy's
 * CONNECT tunnel (TLS then runs end to end, through the tunnel, verified as usual, and resumes
 * the agent's cached session for the host as a direct connection would). the target host is
 * resolved here through `lookup` (the guarded one, unless private networks are allowed) and the
 * proxy is asked for that checked address, so the guard holds behind a proxy too. a host
 * that `bypasses` names is connected to directly, as the agent would without a proxy (with the
 * agent's own, guarded, lookup). a tunnel must open within `connectTimeout`, and is given up
 * when the request is let go of first (its connection signal, in its options under `CONNECT_SIGNAL`,
 * aborts).
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-connect
 */
export const createProxyTunnel = (
	modules: NodeHttpModules,
	proxy: URL,
	authorization: string | undefined,
	secure: boolean,
	lookup: LookupFunction | undefined,
	bypasses: BypassesProxy,
	connectTimeout: number,
) => {
	const { request } = modules.http;
	const proxyPort = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));

	// the agent's own way to connect (net.connect, or tls.connect), as if there were no proxy
	const direct = (secure ? modules.https.Agent : modules.http.Agent).prototype.createConnection as (
		this: unknown,
		options: object,
		callback?: Callback,
	) => Socket | undefined;

	/**
	 * asks the proxy for a tunnel to `target`, and hands `finish` the socket (TLS over it for https,
	 * opened by `agent`) or the error. `settled` says whether the attempt was given up meanwhile
	 * (time, abort); the CONNECT request is returned, to be closed then.
	 */
	const tunnel = (
		agent: unknown,
		target: string,
		port: number,
		options: ClientRequestArgs & Record<string, unknown>,
		settled: () => boolean,
		finish: Callback,
	): ClientRequest => {
		const authority = `${isIP(target) === 6 ? `[${target}]` : target}:${port}`;
		const connect = request({
			host: proxy.hostname.replace(/^\[|\]$/g, ''),
			port: proxyPort,
			method: 'CONNECT',
			path: authority,
			headers:
				authorization === undefined
					? { host: authority }
					: { host: authority, 'proxy-authorization': authorization },
			// the proxy itself is usually on a private network: its own connection is not guarded
			agent: false,
		});
		connect.once('connect', (response, socket) => {
			if (settled()) return void socket.destroy();
			if (response.statusCode !== 200) {
				socket.destroy();
				finish(new Error(`the proxy refused to open a tunnel to ${authority}: ${response.statusCode}`));
				return;
			}
			if (!secure) return finish(null, socket);
			const host = String(options.host ?? '');
			finish(
				null,
				// through the agent's own createConnection, which runs tls.connect over the tunnel with
				// the agent's TLS session for this host, if it has one, and keeps the new one: new
				// connections resume their session as direct ones do
				direct.call(agent, {
					...(options as object),
					socket,
					// the certificate is checked against the name asked for, not the tunnel's address
					servername: isIP(host) === 0 ? host : '',
				}),
			);
		});
		connect.once('error', (error) => finish(error));
		connect.end();
		return connect;
	};

	return function createConnection(
		this: unknown,
		options: ClientRequestArgs & Record<string, unknown>,
		callback: Callback,
	): Socket | undefined {
		const host = String(options.host ?? 'localhost').replace(/^\[|\]$/g, '');
		const port = Number(options.port);
		// NO_PROXY: the agent's own connection (its options carry the guarded lookup)
		if (bypasses(host, port)) return direct.call(this, options, callback);
		const signal = options[CONNECT_SIGNAL] as ConnectSignal | undefined;
		if (signal?.aborted) {
			callback(signal.reason as Error);
			return undefined;
		}
		// the agent's socket timeouts only start once there is a socket: until the tunnel opens (the
		// target's lookup included), a resolver or a proxy that never answers would hold the request
		// (and this connection) for ever
		let settled = false;
		let connect: ClientRequest | undefined;
		const finish: Callback = (error, socket) => {
			if (settled) return void socket?.destroy();
			settled = true;
			clearTimeout(timer);
			signal?.removeEventListener('abort', onAbort);
			if (error) connect?.destroy();
			callback(error, socket);
		};
		const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
		const timer = setTimeout(() => {
			finish(new Error(`the proxy did not open a tunnel to ${authority} within ${connectTimeout} ms`));
		}, connectTimeout);
		const onAbort = () => finish(signal!.reason as Error);
		signal?.addEventListener('abort', onAbort, { once: true });
		const isSettled = () => settled;
		if (lookup === undefined || isIP(host) !== 0) {
			connect = tunnel(this, host, port, options, isSettled, finish);
			return undefined;
		}
		lookup(host, { family: 0 }, (error, address) => {
			if (settled) return;
			if (error) return finish(error);
			connect = tunnel(this, String(address), port, options, isSettled, finish);
		});
		return undefined;
	};
};
