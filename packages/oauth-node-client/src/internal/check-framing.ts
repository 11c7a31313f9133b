import type { NormalizedRequest } from './normalize-request.ts';

// the `connection` values that leave the connection HTTP/1.1 as the transport runs it
const CONNECTION = new Set(['close', 'keep-alive']);

// what fetch refuses to send, in any letter case
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

const refused = (reason: string) => new TypeError('fetch failed', { cause: new TypeError(reason) });

/**
 * refuses, as fetch does, a request whose headers would frame it otherwise than the transport
 * sends its body, or hand its connection to another protocol. a body in memory (or a Blob) is sent with its
 * own `content-length`; a stream is sent chunked, or under the caller's `content-length`, which
 * it must then match (see `sendStream`).
 * @throws {TypeError} `fetch failed`, the reason as its cause; for `CONNECT`, `TRACE` and `TRACK`,
 *   as fetch words it
 */
export const checkFraming = ({ method, headers, body }: NormalizedRequest): void => {
	// node:http gives the answer to a CONNECT (a tunnel) to a listener fetch has no use for; a
	// TRACE or TRACK echoes the request back, its headers (the access token) included
	const upper = method.toUpperCase();
	if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`'${upper}' HTTP method is unsupported.`);
	// a transfer-encoding beside the content-length the transport sets would make the server
	// read the body, and what follows it, otherwise than it was sent (request smuggling)
	if (headers['transfer-encoding'] !== undefined) throw refused('invalid transfer-encoding header');
	// an upgrade asks the server to switch protocols, which a Response cannot carry
	if (headers.upgrade !== undefined) throw refused('invalid upgrade header');
	const connection = headers.connection;
	if (connection !== undefined && !CONNECTION.has(connection.trim().toLowerCase())) {
		throw refused('invalid connection header');
	}
	const length = headers['content-length'];
	if (length === undefined) return;
	if (!/^\d+$/.test(length)) throw refused('invalid content-length header');
	// a stream's length is checked as it is sent; any other body's is known now
	if (body !== undefined && !Buffer.isBuffer(body) && !(body instanceof Blob)) return;
	const known = body === undefined ? 0 : Buffer.isBuffer(body) ? body.length : body.size;
	if (Number(length) !== known) {
		throw refused(`content-length ${length} is not the body's length (${known})`);
	}
};
