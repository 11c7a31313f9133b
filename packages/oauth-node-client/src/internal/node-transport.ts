import type { ClientRequest, Agent as HttpAgent, IncomingMessage, RequestOptions } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import type { Readable } from 'node:stream';

import type { FetchFunction } from '@atcute/oauth-dpop';
import { BODY_HEADERS, REDIRECT_STATUSES, redirectsToGet } from '@atcute-oauth/internal/redirect-statuses';
import { PrivateNetworkError } from '../private-network-error.ts';
import { abortReasonOf, bodyAbortErrorOf } from './abort-reason.ts';
import { badPortRefusal, isBadPort } from './bad-port.ts';
import { checkFraming } from './check-framing.ts';
import { classifyAddress } from './classify-address.ts';
import { closedIfAbandoned } from './closed-if-abandoned.ts';
import { CONNECT_SIGNAL, ConnectionSignal, type ConnectSignal } from './connect-signal.ts';
import { createGuardedLookup } from './guarded-lookup.ts';
import { isIP } from './node-builtin.ts';
import { loadNodeHttpModules, type NodeHttpModules } from './node-http-modules.ts';
import { type NormalizedRequest, normalizeRequest } from './normalize-request.ts';
import { OriginSlots } from './origin-slots.ts';
import { timeoutUnless } from './timeout-unless.ts';
import { withTlsCode } from './tls-error-code.ts';
import { toWebResponse } from './to-web-response.ts';
import {
	type NodeTransportOptions,
	type TransportSettings,
	transportSettings,
} from './transport-settings.ts';
import { type CreateConnection, withConnectTimeout } from './with-connect-timeout.ts';

/**
 * makes an agent's `createConnection` (a proxy tunnel); `lookup` is the guarded one, if any;
 * `connectTimeout` the time a tunnel may take to open. a request's connection signal (aborted when
 * the request is let go of before it has a socket) comes in its options, under `CONNECT_SIGNAL`.
 * passed in rather than imported, so an app that never sets a proxy bundles none of it.
 */
export type ConnectVia = (
	modules: NodeHttpModules,
	secure: boolean,
	lookup: LookupFunction | undefined,
	connectTimeout: number,
) => unknown;

const MAX_REDIRECTS = 20;
// RFC 9110 §9.2.2: a request that can be sent twice with the effect of one
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
// what a server's close of a kept-alive connection looks like to the next request on it
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
// a pooled connection unused this long is closed: under the 5 s that Node servers keep one
// (a server's own `Keep-Alive: timeout=` hint, when shorter, wins)
const FREE_SOCKET_TIMEOUT_MS = 4_000;
// how long an answer's body may take to arrive before it stops counting against its origin's
// limit: long enough for any call's answer, so a burst reuses the connections it opened rather than
// open one more for each body still coming; short enough that a body read slowly, later or never (a
// download piped into an upload to the same server) holds back no other request for long
const BODY_COUNTS_MS = 1_000;
// how long a body still being flushed when its response has ended may take to finish before the
// connection is closed: long enough for the last bytes of a complete upload (the server read them
// all, the socket has yet to say so), short enough that a server that stopped reading is let go
const FINISH_GRACE_MS = 1_000;

/** a failure as fetch reports one: a TypeError whose cause says what happened. */
const fetchFailed = (cause: unknown): Error => {
	// our own refusal is the error itself, so callers can tell it from a network failure
	if (cause instanceof PrivateNetworkError) return cause;
	// node:http's parse errors (HPE_*) keep the bytes they were given in `rawPacket`: the server's
	// answer, a token response's tokens among them, which a logger would write out whole
	if (typeof cause === 'object' && cause !== null && 'rawPacket' in cause) {
		delete (cause as { rawPacket?: unknown }).rawPacket;
	}
	// a refused TLS handshake named as fetch names it, not as the write it failed (see withTlsCode)
	return new TypeError('fetch failed', { cause: withTlsCode(cause) });
};

/**
 * the transport behind `createNodeFetch` (whose doc comment says what it guarantees), with the
 * proxy left to `connectVia`.
 */
export const createNodeTransport = (options: NodeTransportOptions, connectVia?: ConnectVia): FetchFunction =>
	transportWith(transportSettings(options), connectVia);

/** `createNodeTransport` with its options read and checked already (see `lazyNodeTransport`). */
export const transportWith = (settings: TransportSettings, connectVia?: ConnectVia): FetchFunction => {
	const { inactivityTimeout, connectTimeout, maxRequestsPerOrigin, allowed, guarded } = settings;
	const slots = new OriginSlots(maxRequestsPerOrigin);
	// the OAuth client's own requests have a line of their own (see `isUrgent`)
	const urgentSlots = new OriginSlots(Math.ceil(maxRequestsPerOrigin / 8));
	const lookup = guarded ? createGuardedLookup(allowed) : undefined;

	// made on the first request, with the modules they live in; concurrent first requests wait for
	// the one set-up (each making its own would leave all pools but the last orphaned, their
	// connections never reused). forgotten if it fails, so the next request tries again
	let ready: Promise<void> | undefined;
	let modules: NodeHttpModules;
	let httpAgent: HttpAgent | undefined;
	let httpsAgent: HttpsAgent;
	const setUp = (loaded: NodeHttpModules) => {
		const agentOptions = { keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS, scheduling: 'lifo' as const };
		// HTTP/1.1 named in the handshake, as fetch names it: a server that speaks only h2 then refuses
		// the handshake (no_application_protocol), where without ALPN Node's h2 server answers a 403 of
		// its own, read as the endpoint's answer
		const tlsOptions = { ...agentOptions, ALPNProtocols: ['http/1.1'] };
		const httpsReady = new loaded.https.Agent(lookup ? { ...tlsOptions, lookup } : tlsOptions);
		const httpReady = new loaded.http.Agent(lookup ? { ...agentOptions, lookup } : agentOptions);
		// createConnection's callback form is untyped
		const http = httpReady as unknown as { createConnection: CreateConnection };
		const https = httpsReady as unknown as { createConnection: CreateConnection };
		http.createConnection = withConnectTimeout(
			closedIfAbandoned(
				(connectVia?.(loaded, false, lookup, connectTimeout) as CreateConnection) ?? http.createConnection,
			),
			connectTimeout,
		);
		https.createConnection = withConnectTimeout(
			closedIfAbandoned(
				(connectVia?.(loaded, true, lookup, connectTimeout) as CreateConnection) ?? https.createConnection,
			),
			connectTimeout,
		);
		// kept only once both connect as they must: agents left half set up by a throw would let
		// every later request connect directly, around the proxy
		modules = loaded;
		httpsAgent = httpsReady;
		httpAgent = httpReady;
	};

	/**
	 * one exchange, once the request holds one of its origin's slots (see `OriginSlots`), in the
	 * OAuth client's own line or the others'; a wait fails with the signal's reason when it aborts,
	 * or after `inactivityTimeout`.
	 */
	const send = (request: NormalizedRequest, retried: boolean): Promise<Response> => {
		const { origin } = request.url;
		const line = isUrgent(request) ? urgentSlots : slots;
		if (line.tryTake(origin)) return exchange(request, retried, line);
		const timedOut = () =>
			fetchFailed(
				new Error(
					`waited ${inactivityTimeout} ms for its turn at ${origin} (maxRequestsPerOrigin: ${maxRequestsPerOrigin})`,
				),
			);
		return line
			.wait(origin, request.signal, inactivityTimeout, timedOut)
			.then(() => exchange(request, retried, line));
	};

	/**
	 * one exchange on one connection; resolves at the response's headers. the caller holds a slot
	 * of `line` at the request's origin, given back once: when the request is over, or when its
	 * answer's body has taken `BODY_COUNTS_MS` without ending.
	 */
	const exchange = (request: NormalizedRequest, retried: boolean, line: OriginSlots): Promise<Response> => {
		const { url, method, signal } = request;
		const { origin } = url;
		// as fetch reports it: the fragment is the caller's, never part of a response's URL
		const hash = url.href.indexOf('#');
		const responseUrl = hash === -1 ? url.href : url.href.slice(0, hash);
		return new Promise((resolvePromise, rejectPromise) => {
			// the promise's own functions are held only until it settles: the listeners below that
			// outlive the exchange (the body's 'close', the signal's 'abort') would otherwise keep,
			// through them, the promise and the Response it holds, and a body dropped unread could
			// never be collected and its connection let go (see `releaseWhenDropped`)
			let settle: { resolve: typeof resolvePromise; reject: typeof rejectPromise } | undefined = {
				resolve: resolvePromise,
				reject: rejectPromise,
			};
			const resolve = (value: Response | Promise<Response>) => {
				settle?.resolve(value);
				settle = undefined;
			};
			const reject = (reason: unknown) => {
				settle?.reject(reason);
				settle = undefined;
			};
			const secure = url.protocol === 'https:';
			const headers = request.headers;
			headers.accept ??= '*/*';
			headers['user-agent'] ??= 'node';
			// compression, as fetch asks for it: an XRPC answer of any size (a timeline, a list of
			// records) comes in a fifth to a tenth of the bytes. one that arrives whole is decoded at
			// once, for a few microseconds (see decodeArrived)
			headers['accept-encoding'] ??= 'gzip, deflate';
			if (Buffer.isBuffer(request.body)) headers['content-length'] = String(request.body.length);
			else if (request.body instanceof Blob) headers['content-length'] = String(request.body.size);

			// the connection opened for this request, given up when the request is let go of before
			// node:http hands it a socket (see `abandon`)
			const connection = new ConnectionSignal();
			const requestOptions: RequestOptions & { [CONNECT_SIGNAL]?: ConnectSignal } = {
				protocol: url.protocol,
				hostname: url.hostname.replace(/^\[|\]$/g, ''),
				port: url.port,
				path: url.pathname + url.search,
				method,
				headers,
				agent: secure ? httpsAgent : (httpAgent as HttpAgent),
				[CONNECT_SIGNAL]: connection,
			};
			let made: ClientRequest | undefined;
			let message: IncomingMessage | undefined;
			/** lets go of the request, and of the connection being opened for it if it has none yet. */
			const abandon = (error?: Error) => {
				// until the socket is handed over (a tick after the request is made) the request cannot
				// close it, and a destroyed request leaves it to the agent: Node 24 pools it, open
				// (never with no error: a tunnel's callback takes that for a connection made)
				if (made?.socket == null) connection.abort(error ?? (signal ? bodyAbortErrorOf(signal) : undefined));
				made?.destroy(error);
			};
			const onAbort = () => {
				if (message === undefined) reject(abortReasonOf(signal!));
				// an aborted body fails its reader with the signal's reason, as fetch's does (an
				// AbortError for a reason that is no error: destroyed with none, the body never ends)
				message?.destroy(bodyAbortErrorOf(signal!) as Error);
				abandon();
			};
			const done = () => signal?.removeEventListener('abort', onAbort);
			// all that can fail before the request exists, so a request refused here, or aborted
			// already, opens no connection (one opened and then dropped would be left to the agent)
			try {
				signal?.addEventListener('abort', onAbort, { once: true });
				// a listener added to an aborted signal never runs (a retry sent after an abort)
				if (signal?.aborted) throw abortReasonOf(signal);
				made = (secure ? modules.https.request : modules.http.request)(requestOptions);
			} catch (error) {
				done();
				line.release(origin);
				throw error;
			}
			const req = made;
			// a request's 'close' comes once, however it ends: its answer read to the end (a
			// connection kept alive goes back to the pool just after, in the same tick, so the next
			// request, let in a microtask later, reuses it), cancelled, drained once dropped, failed,
			// timed out, or destroyed before it had a socket (once the agent hands it one). a body
			// still coming after `BODY_COUNTS_MS` gives the slot back sooner (see the 'response')
			let released = false;
			const release = () => {
				if (released) return;
				released = true;
				line.release(origin);
			};
			req.once('close', release);
			// every header line is kept, as fetch keeps them (node:http's default drops those past
			// 1,000, a DPoP-Nonce or Location among them); the header size limit still bounds memory
			req.maxHeadersCount = 0;
			try {
				const onTimeout = () => {
					// a timer that fell due while the process was frozen (a serverless function suspended,
					// a laptop asleep, a debugger's pause) runs before the socket is read: an answer that
					// arrived meanwhile (a token response: the refresh token it answers is spent) is read
					// first, a turn later, and then counts as data (the read restarts the timer)
					const socket = req.socket;
					const read = socket?.bytesRead ?? 0;
					setImmediate(() => {
						if (req.destroyed) return;
						if ((req.socket?.bytesRead ?? 0) === read) return timedOut();
						// node:http hears one 'timeout' only, on the request and on its socket: listen again,
						// or a server silent from now on would hold the request for ever. its own forwarder,
						// which it removes from the socket once the response ends
						req.once('timeout', onTimeout);
						const forward = (req as { timeoutCb?: (() => void) | null }).timeoutCb;
						if (typeof forward === 'function' && socket !== undefined && socket !== null) {
							socket.once('timeout', forward);
						}
					});
				};
				req.setTimeout(inactivityTimeout, onTimeout);
				const timedOut = () => {
					const connecting = req.socket?.connecting === true;
					const error = new Error(
						connecting
							? `connect timed out after ${connectTimeout} ms`
							: `no data for ${inactivityTimeout} ms`,
					);
					// a body that stalls fails its reader with this as the cause, not a bare "aborted"
					message?.destroy(error);
					req.destroy(error);
				};

				req.once('response', (response) => {
					message = response;
					response.once('close', () => {
						done();
						// the whole response is in (or was let go) while the body is still being sent: a
						// server that answered early (a 401 use_dpop_nonce before reading an upload) and
						// stopped reading would hold this connection, and the body's source (a file's
						// descriptor), for ever, as node stops timing a request once its response has
						// ended. unless the body finishes within a short grace (a complete upload whose last
						// bytes are still being flushed keeps its connection), the sending stops (RFC 9112
						// §9.5; undici does the same) and the connection is closed, not reused;
						// sendStream's 'close' closes the source
						if (!req.writableFinished) {
							stopUnlessFinished(req, Math.min(FINISH_GRACE_MS, inactivityTimeout));
						}
					});
					// a small answer's body is parsed in the same read as its headers: one tick later
					// it is complete, and can be handed over without a stream
					process.nextTick(() => {
						// a body handed over as a stream (one not whole by now, or one to decode, which
						// a pipe holds back until read) may be read later or never: it stops counting
						// against the origin's limit after a while. a whole plain body is taken as bytes,
						// and its connection goes back to the pool at once
						if ((!response.complete || response.headers['content-encoding'] !== undefined) && !released) {
							timeoutUnless(req, 'close', BODY_COUNTS_MS, release).unref();
						}
						try {
							resolve(toWebResponse(modules, response, responseUrl, method, signal));
						} catch (error) {
							// the server's answer cannot be made a Response (a status of 600): this fetch
							// fails, not the process (a throw here would be an uncaught exception)
							response.destroy();
							reject(fetchFailed(error));
						}
					});
				});
				req.once('error', (error: NodeJS.ErrnoException) => {
					if (message !== undefined) return;
					done();
					if (signal?.aborted) return reject(abortReasonOf(signal));
					// the server closed a kept-alive connection as we reused it: send once more on a
					// fresh one, when sending twice cannot do twice what once would
					if (
						!retried &&
						req.reusedSocket &&
						STALE_SOCKET.has(error.code ?? '') &&
						IDEMPOTENT.has(method) &&
						!isStream(request.body)
					) {
						// on the slot this request holds: a retry is not sent to the back of the line
						released = true;
						return resolve(exchange(request, true, line));
					}
					reject(fetchFailed(error));
				});
				// node:http hands a 101 (and any answer to CONNECT) to these rather than to 'response';
				// with no listener it closes the connection and the request says nothing but 'close'
				const switched = (response: IncomingMessage, socket: Socket) => {
					socket.destroy();
					done();
					reject(fetchFailed(new Error(`the server switched protocols (${response.statusCode})`)));
				};
				req.once('upgrade', switched);
				req.once('connect', switched);
				// a request that ends with neither a response nor an error must still settle
				req.once('close', () => {
					if (message !== undefined) return;
					done();
					reject(fetchFailed(new Error('the connection closed before a response arrived')));
				});

				const body = request.body;
				if (body === undefined) req.end();
				else if (Buffer.isBuffer(body)) req.end(body);
				else if (body instanceof Blob) sendBlob(modules, body, req);
				else sendStream(body, req, headers['content-length']);
			} catch (error) {
				// the request exists (its connection may be opening) but this fetch has let go of it:
				// it is closed, with a listener, since an 'error' nobody listens to (the connection
				// failing or reset later) would crash the process. the promise rejects with the throw
				done();
				req.on('error', () => {});
				abandon(error as Error);
				// and a body stream it would have read is not left open either
				if (isStream(request.body)) request.body.destroy();
				throw error;
			}
		});
	};

	return async (input, init) => {
		// the agents' presence is the fast path: no promise awaited once they are made
		if (httpAgent === undefined) {
			ready ??= loadNodeHttpModules()
				.then(setUp)
				.catch((error: unknown) => {
					ready = undefined;
					throw error;
				});
			await ready;
		}
		// no turn of the event loop for a request that is ready as given (every XRPC call)
		const normalized = normalizeRequest(modules.stream, input, init);
		let request = normalized instanceof Promise ? await normalized : normalized;
		// a stream body the request never took (refused before it was sent: a private address, a
		// bad protocol, an abort; a redirect it cannot follow) is not left open: a file's stream
		// would keep its descriptor. one the request took is closed with it (see exchange)
		const body = request.body;
		try {
			const { signal } = request;
			if (signal?.aborted) throw abortReasonOf(signal);
			checkFraming(request);

			for (let redirects = 0; ; redirects++) {
				// an abort while a redirect's body was let go: the next hop is not sent (the listener in
				// `exchange` never fires for a signal that is aborted already)
				if (signal?.aborted) throw abortReasonOf(signal);
				const host = request.url.hostname.replace(/^\[|\]$/g, '');
				// an IP literal is never looked up, so the connect-time check never sees it: check here
				if (guarded && isIP(host) !== 0 && !allowed(host)) {
					const kind = classifyAddress(host);
					if (kind !== undefined) throw new PrivateNetworkError(host, host, kind);
				}
				if (request.url.protocol !== 'http:' && request.url.protocol !== 'https:') {
					throw new TypeError(`fetch failed: unsupported protocol ${request.url.protocol}`);
				}
				// on every hop: a redirect may name the port the first URL did not
				if (isBadPort(request.url)) throw badPortRefusal(request.url);

				const response = await send(request, false);
				// what fetch reports of a response reached through a redirect it followed
				if (redirects > 0) Object.defineProperty(response, 'redirected', { value: true });
				if (request.redirect === 'manual' || !REDIRECT_STATUSES.has(response.status)) return response;
				if (request.redirect === 'error') {
					// as fetch: a redirect status is refused, with or without a Location
					await response.body?.cancel().catch(() => {});
					throw new TypeError('fetch failed: redirect refused (redirect: "error")');
				}
				const location = response.headers.get('location');
				if (location === null) return response;

				await response.body?.cancel().catch(() => {});
				if (redirects === MAX_REDIRECTS) {
					throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects`);
				}
				request = followed(request, locationOf(location, request.url), response.status);
			}
		} catch (error) {
			if (isStream(body)) body.destroy();
			throw error;
		}
	};
};

/**
 * whether a request waits in the OAuth client's own line at its origin, an eighth of the limit (at
 * least one), beside the others' rather than behind them: its metadata and identity documents under
 * `/.well-known/`, and the form-encoded POSTs of the authorization server's endpoints (PAR, token,
 * revocation; XRPC calls send JSON or bytes). a refresh queued behind thousands of calls at its PDS
 * would spend its time limit waiting, and a sign-out's revocation its own, leaving the grant live.
 */
const isUrgent = (request: NormalizedRequest): boolean => {
	if (request.url.pathname.startsWith('/.well-known/')) return true;
	return (
		request.method === 'POST' &&
		request.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded') === true
	);
};

/**
 * pipes a stream body into its request. pipe() alone passes neither failure on: a source that
 * errors would be an uncaught exception while the request waits for its timeout, and a request
 * that fails (an abort, a dropped connection) would leave the source open. a body sent under the
 * caller's `content-length` must be that long (as fetch checks): the request fails otherwise, and
 * ends with its last declared byte.
 */
const sendStream = (body: Readable, req: ClientRequest, contentLength: string | undefined): void => {
	// the fetch then fails with the source's error as its cause, and the connection is closed
	body.on('error', (error) => req.destroy(error));
	// once the request is over, nothing more is read: a web stream's source is cancelled
	req.once('close', () => body.destroy());
	if (contentLength === undefined) {
		body.pipe(req);
		return;
	}
	// bytes past the declared length would be read by the server as the start of another
	// request (smuggling), and too few would leave it waiting: the connection is closed first.
	// listened to before pipe() is, so a chunk too many is never written
	const declared = Number(contentLength);
	const mismatch = () => new Error(`the request body is not the ${declared} bytes its content-length says`);
	let sent = 0;
	body.on('data', (chunk: Buffer) => {
		sent += chunk.length;
		if (sent > declared) req.destroy(mismatch());
	});
	body.once('end', () => {
		if (sent !== declared) req.destroy(mismatch());
	});
	body.pipe(req);
	// the request ends with its last declared byte, not with its source's 'end': a file's stream
	// says so only after one more read, a web stream when a later pull closes it, and a server
	// that has every byte may answer first, leaving a request still unfinished to lose its
	// connection. listened to after pipe() is, so the chunk that completes the length is written
	body.on('data', () => {
		if (sent !== declared || req.writableEnded || req.destroyed) return;
		body.unpipe(req);
		req.end();
		// still read (pipe() would stop at the request's 'finish'): a byte past the length fails a
		// request not yet over (above), and a file's stream reaches its end and closes
		body.resume();
	});
};

/**
 * streams a Blob into its request, from its source (a file's, for `fs.openAsBlob`), a chunk at a
 * time as the connection takes them: a new stream for each send, so a retry or a redirect sends it
 * whole again. its length, the `content-length` sent, is known up front.
 */
const sendBlob = (modules: NodeHttpModules, body: Blob, req: ClientRequest): void => {
	if (body.size === 0) {
		req.end();
		return;
	}
	const source = body.stream() as import('node:stream/web').ReadableStream<Uint8Array>;
	sendStream(modules.stream.Readable.fromWeb(source), req, String(body.size));
};

/**
 * closes a request whose response has ended unless its body finishes sending within `graceMs`:
 * one whose last bytes are still being flushed keeps its connection, one the server stopped
 * reading is cut.
 */
const stopUnlessFinished = (req: ClientRequest, graceMs: number): void => {
	// a body that finishes now has node:http pool its connection, dropping its own 'error'
	// listener a tick before the agent adds one (a gap its source marks as a TODO): a write that
	// fails in that gap (the server reset the connection as the last bytes went) would be an
	// uncaught exception. an error always destroys the socket, so nothing is lost by ignoring it
	const socket = req.socket;
	if (socket != null && !socket.listeners('error').includes(ignoreError)) socket.on('error', ignoreError);
	// a timer pending on a finished exchange never holds the process open
	timeoutUnless(req, 'finish', graceMs, () => req.destroy()).unref();
};

const ignoreError = (): void => {};

const isStream = (body: NormalizedRequest['body']): body is Readable => {
	// a Blob is read anew for each send: it can be sent again, as bytes can
	return body !== undefined && !Buffer.isBuffer(body) && !(body instanceof Blob);
};

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * the URL a `Location` header points to, relative to `base`, as fetch reads it: its bytes as
 * UTF-8 (node:http gives header values as latin1). a Location that is no URL, or one with
 * credentials, fails the fetch.
 */
const locationOf = (location: string, base: URL): URL => {
	const value = NON_ASCII.test(location) ? Buffer.from(location, 'latin1').toString('utf8') : location;
	let url: URL;
	try {
		url = new URL(value, base);
	} catch (error) {
		throw fetchFailed(error);
	}
	// as fetch: credentials are the caller's to give, never a server's (they would also be
	// kept in the response's url)
	if (url.username !== '' || url.password !== '') {
		throw fetchFailed(new TypeError('the redirect location contains credentials'));
	}
	return url;
};

/** the request a redirect asks for, as fetch makes it. */
const followed = (request: NormalizedRequest, url: URL, status: number): NormalizedRequest => {
	const headers = { ...request.headers };
	let { method, body } = request;
	// 303, and 301/302 after a POST, become a GET without body (the Fetch standard's rule)
	if (redirectsToGet(status, method)) {
		method = 'GET';
		body = undefined;
		for (const name of BODY_HEADERS) delete headers[name];
	} else if (isStream(body)) {
		throw new TypeError('fetch failed: cannot follow a redirect with a streamed body');
	}
	// credentials are for the origin they were written for
	if (url.origin !== request.url.origin) {
		delete headers.authorization;
		delete headers.cookie;
		delete headers['proxy-authorization'];
	}
	return { ...request, url, method, headers, body };
};
