import type { Readable } from 'node:stream';

import { allowManyAbortListeners } from '@atcute-oauth/internal/allow-many-abort-listeners';
import { kindOf } from '@atcute-oauth/internal/kind-of';
import { isSignalLike } from '@atcute-oauth/internal/signal-like';

import type { NodeHttpModules } from './node-http-modules.ts';

/** what the transport sends: everything `fetch`'s arguments can say, in node:http's terms. */
export interface NormalizedRequest {
	url: URL;
	method: string;
	headers: Record<string, string>;
	/**
	 * a buffer (sent again as is on a retry or redirect), a Blob (streamed from its source on each
	 * send, a retry's or a redirect's too), a stream (sent once), or none.
	 */
	body: Buffer | Blob | Readable | undefined;
	signal: AbortSignal | null | undefined;
	redirect: RequestRedirect;
}

const TEXT = 'text/plain;charset=UTF-8';
const FORM = 'application/x-www-form-urlencoded;charset=UTF-8';

// leading and trailing HTTP whitespace, which `Headers` takes off a value (node:http would refuse
// the CR or LF of a token read with its line's end, where fetch sends it)
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const isWhitespace = (code: number) => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
const headerValueOf = (value: unknown): string => {
	const text = String(value);
	const edged = isWhitespace(text.charCodeAt(0)) || isWhitespace(text.charCodeAt(text.length - 1));
	return edged ? text.replace(EDGE_WHITESPACE, '') : text;
};

// a name given twice (in a list, or in two cases in a record) is sent once, its values joined, as
// `Headers` joins them: a Cookie's with "; " (one cookie list), any other's with ", "
const append = (out: Record<string, string>, name: string, value: unknown): void => {
	const key = name.toLowerCase();
	const previous = out[key];
	const text = headerValueOf(value);
	out[key] = previous === undefined ? text : `${previous}${key === 'cookie' ? '; ' : ', '}${text}`;
};

const headersOf = (init: HeadersInit | undefined): Record<string, string> => {
	// no prototype: a header named like an Object property ("constructor", "__proto__") is a header
	const out: Record<string, string> = Object.create(null);
	if (init === undefined) return out;
	if (init instanceof Headers) {
		// already lower-cased and combined, but for Set-Cookie, whose values come one by one
		init.forEach((value, name) => {
			append(out, name, value);
		});
	} else if (Array.isArray(init)) {
		for (const [name, value] of init as [string, string][]) append(out, name, value);
	} else if (typeof (init as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') {
		// a Map, a generator, another implementation's Headers: whatever `new Headers` reads as
		// pairs (read as a record, they had no own keys, and Authorization was silently dropped)
		new Headers(init).forEach((value, name) => {
			append(out, name, value);
		});
	} else {
		const record = init as Record<string, string>;
		for (const name of Object.keys(record)) append(out, name, record[name]);
	}
	// the Host is the URL's, as fetch sends it: node:https would take a caller's as the name the
	// server's certificate is checked against, and it would outlive a redirect to another origin
	if (out.host !== undefined) delete out.host;
	return out;
};

/** the body as bytes or a stream; a promise only for the bodies that must be read first. */
const normalizeBody = (
	stream: NodeHttpModules['stream'],
	body: BodyInit,
	headers: Record<string, string>,
): Buffer | Blob | Readable | Promise<Buffer> => {
	if (typeof body === 'string') {
		headers['content-type'] ??= TEXT;
		return Buffer.from(body);
	}
	if (body instanceof URLSearchParams) {
		headers['content-type'] ??= FORM;
		return Buffer.from(body.toString());
	}
	// a copy, as fetch takes one: the bytes are written once a connection takes the request (a
	// tick later at best, after a wait for a slot or a connect at worst, and again on a retry or a
	// redirect), and by then the caller may have refilled its buffer, or transferred it away
	if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
	if (ArrayBuffer.isView(body))
		return Buffer.from(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
	// kept as it is, and streamed as each send reads it (a Blob cannot change): a video opened with
	// `fs.openAsBlob` is read from its file a chunk at a time, as fetch reads it, rather than into
	// memory whole before it is sent (and again for a use_dpop_nonce retry)
	if (body instanceof Blob) {
		if (body.type !== '') headers['content-type'] ??= body.type;
		return body;
	}
	if (body instanceof ReadableStream) {
		return stream.Readable.fromWeb(body as import('node:stream/web').ReadableStream);
	}
	// a Node stream (fs.createReadStream) or any async iterable of bytes, which Node's fetch takes
	// too: streamed as it comes, never read whole first
	if (body instanceof stream.Readable) return body;
	if (typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function') {
		return stream.Readable.from(body as unknown as AsyncIterable<Uint8Array | string>, { objectMode: false });
	}
	return readBody(body, headers);
};

/** what the platform encodes FormData and anything else into. */
const readBody = async (body: BodyInit, headers: Record<string, string>): Promise<Buffer> => {
	// FormData and anything else: let the platform encode it (multipart boundary included)
	const request = new Request('http://localhost/', { method: 'POST', body });
	const type = request.headers.get('content-type');
	if (type !== null) headers['content-type'] ??= type;
	return Buffer.from(await request.arrayBuffer());
};

// fetch upper-cases these methods only; any other it sends as written (node:http then upper-cases
// every method on the wire: a `patch` goes out as PATCH, where fetch sends `patch`)
const NORMALIZED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const normalizeMethod = (method: string): string => {
	const upper = method.toUpperCase();
	return NORMALIZED.has(upper) ? upper : method;
};

/**
 * refuses a `signal` the transport cannot listen to, before any connection is opened. what fetch
 * takes is taken: an `AbortSignal`, or one from another realm or a polyfill (a boolean `aborted`,
 * and the listener methods the transport calls).
 */
const checkSignal = (signal: unknown): void => {
	if (signal === undefined || signal === null || isSignalLike(signal)) return;
	// the AbortController itself is the usual slip
	throw new TypeError(
		`signal must be an AbortSignal (pass controller.signal, not the controller), got ${kindOf(signal)}`,
	);
};

/**
 * turns `fetch`'s arguments into one request description: at once for a URL with no body or one
 * already in memory (every XRPC call), through a promise for a `Request` or a body to be read.
 * @throws {TypeError} for a `signal` that is not an AbortSignal (a `Request`'s own always is)
 */
export const normalizeRequest = (
	stream: NodeHttpModules['stream'],
	input: string | URL | Request,
	init: RequestInit | undefined,
): NormalizedRequest | Promise<NormalizedRequest> => {
	checkSignal(init?.signal);
	if (init?.signal) allowManyAbortListeners(init.signal);
	if (input instanceof Request) return fromRequest(input, init);
	const url = typeof input === 'string' ? new URL(input) : new URL(input.href);
	if (url.username !== '' || url.password !== '') {
		// as fetch does: credentials in a URL are a leak waiting to happen
		throw new TypeError('the request URL must not contain credentials');
	}
	const headers = headersOf(init?.headers);
	const method = normalizeMethod(init?.method ?? 'GET');
	const signal = init?.signal;
	const redirect = init?.redirect ?? 'follow';
	const raw = init?.body;
	if (raw === undefined || raw === null) return { url, method, headers, body: undefined, signal, redirect };
	if (method === 'GET' || method === 'HEAD') {
		throw new TypeError('a GET or HEAD request cannot have a body');
	}
	const body = normalizeBody(stream, raw, headers);
	if (body instanceof Promise) {
		return body.then((bytes) => ({ url, method, headers, body: bytes, signal, redirect }));
	}
	return { url, method, headers, body, signal, redirect };
};

const fromRequest = async (input: Request, init: RequestInit | undefined): Promise<NormalizedRequest> => {
	// as fetch: a body read already (its stream released, it reads as empty) is not sent as nothing.
	// with init, new Request() decides: it refuses the used body, and takes a new one in its place
	if (init === undefined && input.bodyUsed) {
		throw new TypeError('the Request has been used already: its body was read');
	}
	const request = init === undefined ? input : new Request(input, init);
	const headers = headersOf(request.headers);
	const body = request.body === null ? undefined : await readWhole(request.body, request.signal);
	return {
		url: new URL(request.url),
		method: request.method,
		headers,
		body,
		signal: request.signal,
		redirect: request.redirect,
	};
};

/**
 * a Request's body, read whole. a stream body may never end, so an abort rejects at once with
 * the signal's reason, and cancels the stream (as fetch does) rather than wait for its end.
 */
const readWhole = async (body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<Buffer> => {
	signal.throwIfAborted();
	const reader = body.getReader();
	const onAbort = () => {
		reader.cancel(signal.reason).catch(() => {});
	};
	signal.addEventListener('abort', onAbort, { once: true });
	try {
		const chunks: Uint8Array[] = [];
		for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) chunks.push(chunk.value);
		// a cancelled read ends as if the stream had: what was read is not the whole body
		signal.throwIfAborted();
		return Buffer.concat(chunks);
	} finally {
		signal.removeEventListener('abort', onAbort);
	}
};
