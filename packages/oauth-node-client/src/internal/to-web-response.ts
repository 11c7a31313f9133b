import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

import { bodyAbortErrorOf } from './abort-reason.ts';
import { createArrivedResponse } from './arrived-response.ts';
import { type ContentCoding, isContentCoding } from './content-coding.ts';
import { decodeArrived } from './decode-arrived.ts';
import { createDeflateDecoder } from './deflate-decoder.ts';
import { type BodySource, releaseWhenDropped, stopDecoding } from './dropped-body.ts';
import type { NodeHttpModules } from './node-http-modules.ts';
import { rawHeadersOf } from './raw-headers-of.ts';

// statuses whose responses carry no body (and for which `new Response` refuses one); the 1xx
// ones among them never get here (see below)
const NULL_BODY = new Set([204, 205, 304]);
// what `new Response` accepts as a statusText: RFC 9110's reason-phrase
// @see https://www.rfc-editor.org/rfc/rfc9110#section-15-3
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * the body decoder for one coding of a `Content-Encoding`, as fetch decodes: gzip, deflate (zlib
 * or raw) and br, with fetch's (and curl's) lenient flush modes, so an encoded body that is empty (`content-length: 0`) reads
 * as "" rather than failing with "unexpected end of file"; a compressed stream that stops early
 * gives what it decoded, as fetch's does. a body the HTTP framing says was cut short still fails.
 */
const decoderFor = (modules: NodeHttpModules, coding: ContentCoding): Duplex => {
	const { createBrotliDecompress, createGunzip, constants } = modules.zlib;
	switch (coding) {
		case 'gzip':
		case 'x-gzip':
			return createGunzip({ flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH });
		case 'deflate':
			// zlib-wrapped, or raw DEFLATE, as fetch reads either
			return createDeflateDecoder(modules, {
				flush: constants.Z_SYNC_FLUSH,
				finishFlush: constants.Z_SYNC_FLUSH,
			});
		case 'br':
			return createBrotliDecompress({
				flush: constants.BROTLI_OPERATION_FLUSH,
				finishFlush: constants.BROTLI_OPERATION_FLUSH,
			});
	}
};

/** the most codings one body may be wrapped in, as fetch allows: each is a decoder to run. */
const MAX_CODINGS = 5;

const NO_CODINGS: readonly ContentCoding[] = [];

/**
 * the codings of a `Content-Encoding` list (two headers arrive joined by node) to take off, in
 * the order they were applied, as fetch reads the list: none, and the body as it came, when one
 * of them is a coding fetch does not decode (`identity`, or an empty one between two commas, among
 * them).
 * @throws {RangeError} for more than `MAX_CODINGS`, which fail the fetch as they fail Node's
 */
const codingsOf = (encoding: string | undefined): readonly ContentCoding[] => {
	// most bodies: nothing to decode
	if (encoding === undefined || encoding === '') return NO_CODINGS;
	const codings = encoding.split(',').map((coding) => coding.trim().toLowerCase());
	if (codings.length > MAX_CODINGS) {
		throw new RangeError(
			`too many content-encodings in response: ${codings.length}, maximum allowed is ${MAX_CODINGS}`,
		);
	}
	return codings.every(isContentCoding) ? codings : NO_CODINGS;
};

/** the streaming decoders for `codings`, in the order the body goes through them. */
const decodersFor = (modules: NodeHttpModules, codings: readonly ContentCoding[]): Duplex[] => {
	const decoders: Duplex[] = [];
	for (let i = codings.length - 1; i >= 0; i--) decoders.push(decoderFor(modules, codings[i]!));
	return decoders;
};

/**
 * the reader side of a body as its node side sees it. the controller is held strongly only while
 * a read may be waiting for the next chunk; once the queue is full (the node side paused) only
 * weakly, so that a body dropped unread, or read in part, can be garbage-collected and its
 * connection let go (see `releaseWhenDropped`). a read that waits is never lost: the stream pulls,
 * and is held again, before its queue runs dry.
 */
interface BodyLink {
	readonly body: BodySource;
	strong: ReadableStreamDefaultController<Uint8Array> | undefined;
	weak: WeakRef<ReadableStreamDefaultController<Uint8Array>> | undefined;
	// once cancelled, the controller must not be touched again (close() would throw)
	cancelled: boolean;
}

/**
 * the controller to feed, if any: none once cancelled, nor once the body was collected unread and
 * is being drained. the controller may outlive the stream users hold (on Node 20 a web stream's
 * controller holds an inner object, not the one `new ReadableStream` returns), so it is the
 * `draining` flag, not the weak reference, that says the body is gone.
 */
const controllerOf = (link: BodyLink) =>
	link.cancelled || link.body.draining ? undefined : (link.strong ?? link.weak?.deref());

/**
 * feeds `source` into the body's controller. a function of its own, so that its listeners close
 * over `link` alone: a listener that saw the controller (or the stream) would hold it strongly.
 */
const feed = (source: IncomingMessage | Duplex, link: BodyLink, signal: AbortSignal | null | undefined) => {
	source.on('data', (chunk: Buffer) => {
		const controller = controllerOf(link);
		if (controller === undefined) return;
		controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
		if ((controller.desiredSize ?? 1) <= 0) {
			source.pause();
			link.strong = undefined;
		}
	});
	source.once('end', () => {
		controllerOf(link)?.close();
		letGo(link);
	});
	source.once('error', (error) => {
		const aborted = signal?.aborted === true && error === bodyAbortErrorOf(signal);
		controllerOf(link)?.error(aborted ? error : new TypeError('terminated', { cause: error }));
		letGo(link);
	});
};

/**
 * drops the strong hold on a body that is over (ended or failed): nothing more will be fed. the
 * message keeps these listeners, and `releaseWhenDropped`'s registry keeps the message until the
 * stream is collected: held from here, the stream would never be, and each response would stay
 * in memory (its request, socket and stream) for as long as the process runs.
 */
const letGo = (link: BodyLink) => {
	link.strong = undefined;
};

/**
 * a byte stream over a response body (through its decoders, if any, which the body is piped
 * through in that order: it is read from the last), with backpressure: the node
 * side is paused while the web side's queue is full. when the reader cancels, a response that has
 * fully arrived is drained, so its connection goes back to the pool (as fetch does); one still
 * arriving is destroyed, which closes its connection. a body garbage-collected unread has its
 * connection let go as well (see `releaseWhenDropped`). a failure reads as fetch's: the abort's
 * reason after an abort, else `TypeError('terminated')` with the failure as its cause (a
 * connection closed mid-body).
 */
const toByteStream = (body: BodySource, signal: AbortSignal | null | undefined) => {
	const { message, decoders } = body;
	const source = decoders.at(-1) ?? message;
	const link: BodyLink = { body, strong: undefined, weak: undefined, cancelled: false };
	const stream = new ReadableStream<Uint8Array>({
		start(controller) {
			link.strong = controller;
			link.weak = new WeakRef(controller);
			feed(source, link, signal);
		},
		pull(controller) {
			link.strong = controller;
			source.resume();
		},
		cancel() {
			link.cancelled = true;
			link.strong = undefined;
			// nothing more is decoded for a body nobody reads (a capped read cancels at its cap)
			stopDecoding(body);
			if (!message.complete) {
				message.destroy();
				return;
			}
			// resolved once the connection is back in the pool, so that a request sent right
			// after (a DPoP nonce retry) reuses it instead of opening another
			const freed = new Promise<void>((resolve) => {
				message.once('end', () => setImmediate(resolve));
				message.once('close', () => setImmediate(resolve));
			});
			message.resume();
			return message.readableEnded ? undefined : freed;
		},
	});
	releaseWhenDropped(stream, body);
	return stream;
};

/**
 * wraps a node:http response into a standard `Response` whose body streams as it arrives; a body
 * that had wholly arrived by the time this is called is kept as bytes (see `createArrivedResponse`).
 * throws for a status no `Response` can carry (outside 200-599); drops a reason phrase it cannot.
 */
export const toWebResponse = (
	modules: NodeHttpModules,
	message: IncomingMessage,
	url: string,
	method: string,
	signal: AbortSignal | null | undefined,
): Response => {
	const raw = rawHeadersOf(message);
	const status = message.statusCode ?? 0;
	if (status < 200 || status > 599) {
		// node:http parses any three digits; `new Response` takes 200-599 only
		throw new RangeError(`the server answered with status ${status}, which a Response cannot carry`);
	}
	let statusText = message.statusMessage ?? '';
	// a reason phrase is only a comment, and `new Response` refuses one with control characters
	if (!REASON_PHRASE.test(statusText)) statusText = '';
	let body: ReadableStream<Uint8Array> | null = null;
	if (method === 'HEAD' || NULL_BODY.has(status)) {
		// nothing will come: let the socket go back to the pool
		message.resume();
	} else {
		const codings = codingsOf(message.headers['content-encoding']);
		if (message.complete) {
			// the whole body came with the headers: keep its bytes (decoded, if need be), build no
			// stream until asked
			const chunks: Buffer[] = [];
			for (let chunk: Buffer | null = message.read(); chunk !== null; chunk = message.read()) {
				chunks.push(chunk);
			}
			const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
			const decoded = codings.length === 0 ? whole : decodeArrived(modules.zlib, codings, whole);
			if (decoded !== undefined) {
				// let 'end' come, so the socket goes back to the pool now
				message.resume();
				const bytes = new Uint8Array(decoded.buffer as ArrayBuffer, decoded.byteOffset, decoded.byteLength);
				const head = { status, statusText, rawHeaders: raw };
				return createArrivedResponse(modules.stream.Readable.isDisturbed, bytes, head, url, signal);
			}
			// too large to decode at once, or not decodable: back to the message ('end' has not come,
			// as it was not read empty), for the streaming decoders below
			message.unshift(whole);
		}
		const decoders = decodersFor(modules, codings);
		const source: BodySource = { message, decoders, draining: false };
		if (decoders.length === 0) {
			body = toByteStream(source, signal);
		} else {
			// the body is read from the last decoder: every failure upstream reaches it (pipe does
			// not pass errors on), and when it closes (read to the end, failed or cancelled) the rest go
			const last = decoders[decoders.length - 1]!;
			message.once('error', (error) => last.destroy(error));
			for (const decoder of decoders)
				if (decoder !== last) decoder.once('error', (error) => last.destroy(error));
			last.once('close', () => {
				for (const decoder of decoders) if (decoder !== last) decoder.destroy();
				// a body dropped unread is drained rather than closed (see `releaseWhenDropped`)
				if (source.draining || message.readableEnded) return;
				if (message.complete) {
					// all of it arrived, and decoding stopped (it failed, or was cancelled): the
					// message, paused by the pipe's backpressure, is read to its end, or its
					// connection would stay out of the pool until the inactivity timeout
					message.unpipe();
					message.resume();
				} else {
					message.destroy();
				}
			});
			let piped: Duplex = message.pipe(decoders[0]!);
			for (const decoder of decoders.slice(1)) piped = piped.pipe(decoder);
			body = toByteStream(source, signal);
		}
	}

	const headers: [string, string][] = [];
	for (let i = 0; i < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!]);
	const response = new (streamedResponseClass())(body, { status, statusText, headers });
	// what fetch would report: the URL this response came from
	Object.defineProperty(response, 'url', { value: url });
	return response;
};

/**
 * the class of a response whose body is still arriving. its `url` (and `redirected`, which the
 * redirect follower sets) are own properties, which `Response`'s own `clone()` does not copy:
 * fetch's clones keep both, so these do too, clones of clones included. made on first use:
 * naming `Response` at import would load Node's fetch (undici), tens of milliseconds at start-up.
 */
let streamed: typeof Response | undefined;
const streamedResponseClass = (): typeof Response => {
	if (streamed !== undefined) return streamed;
	class StreamedResponse extends Response {
		override clone(): Response {
			const copy = super.clone();
			Object.setPrototypeOf(copy, StreamedResponse.prototype);
			Object.defineProperty(copy, 'url', { value: this.url });
			if (this.redirected) Object.defineProperty(copy, 'redirected', { value: true });
			return copy;
		}
	}
	streamed = StreamedResponse;
	return streamed;
};
