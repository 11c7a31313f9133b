import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** the largest request body the servers read; anything bigger gets a 413. */
const MAX_BODY_BYTES = 64 * 1024;

/** a request handler of one of the three servers. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** thrown by `readBody` when the body is larger than the servers accept. */
export class BodyTooLargeError extends Error {
	override name = 'BodyTooLargeError';
}

/** reads the whole request body as text. */
export const readBody = async (req: IncomingMessage): Promise<string> => {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size > MAX_BODY_BYTES) {
			throw new BodyTooLargeError(`request body larger than ${MAX_BODY_BYTES} bytes`);
		}
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks).toString('utf8');
};

/**
 * the parameters of a form (`application/x-www-form-urlencoded`) or JSON body, as strings; the
 * reference server takes both. non-string JSON values are kept as their JSON text.
 */
export const parseParams = (req: IncomingMessage, body: string): Map<string, string> => {
	const params = new Map<string, string>();
	const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
	if (type === 'application/json') {
		let parsed: unknown;
		try {
			parsed = JSON.parse(body);
		} catch {
			return params;
		}
		if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
			for (const [name, value] of Object.entries(parsed)) {
				if (value === undefined || value === null) continue;
				params.set(name, typeof value === 'string' ? value : JSON.stringify(value));
			}
		}
		return params;
	}
	for (const [name, value] of new URLSearchParams(body)) {
		// a repeated parameter is refused by OAuth servers; keep the first to make it visible
		if (!params.has(name)) params.set(name, value);
	}
	return params;
};

/** whether a response can still be written (the socket was not destroyed, nothing was sent). */
export const isWritable = (res: ServerResponse): boolean => {
	return !res.headersSent && !res.writableEnded && !res.destroyed;
};

/** writes a JSON response with extra headers. */
export const sendJson = (
	res: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string> = {},
): void => {
	if (!isWritable(res)) return;
	const text = JSON.stringify(body);
	res.writeHead(status, {
		'content-type': 'application/json',
		'content-length': String(Buffer.byteLength(text)),
		...headers,
	});
	res.end(text);
};

/** writes a response with a body of the given type. */
export const sendText = (
	res: ServerResponse,
	status: number,
	contentType: string,
	text: string,
	headers: Record<string, string> = {},
): void => {
	if (!isWritable(res)) return;
	res.writeHead(status, {
		'content-type': contentType,
		'content-length': String(Buffer.byteLength(text)),
		...headers,
	});
	res.end(text);
};

/** a listening http server and its origin. */
export interface Listening {
	server: Server;
	/** `http://127.0.0.1:<port>`, or `https://…` with a certificate */
	origin: string;
}

/** a PEM certificate (chain) and its private key, to serve https. */
export interface TlsCredentials {
	cert: string;
	key: string;
}

/** starts an http server (https with `tls`) on 127.0.0.1 with a free port; `host` names it in the origin. */
export const listen = async (
	handler: Handler,
	keepAliveTimeout = 5000,
	tls: TlsCredentials | undefined = undefined,
	host = '127.0.0.1',
): Promise<Listening> => {
	const onRequest = (req: IncomingMessage, res: ServerResponse) => {
		handler(req, res).catch((err: unknown) => {
			if (isWritable(res)) {
				sendJson(res, 500, { error: 'server_error', error_description: String(err) });
			}
		});
	};
	// an https.Server is an http.Server over TLS: the rest treats both alike
	const server: Server =
		tls === undefined
			? createServer(onRequest)
			: createHttpsServer({ cert: tls.cert, key: tls.key }, onRequest);
	// long enough for clients to reuse a connection; `closeServer` closes the idle ones
	server.keepAliveTimeout = keepAliveTimeout;

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			server.off('error', reject);
			resolve();
		});
	});
	const { port } = server.address() as AddressInfo;
	return { server, origin: `${tls === undefined ? 'http' : 'https'}://${host}:${port}` };
};

/** closes a server and every socket it holds. */
export const closeServer = (server: Server): Promise<void> => {
	return new Promise<void>((resolve, reject) => {
		server.close((err) => (err ? reject(err) : resolve()));
		server.closeAllConnections();
	});
};
