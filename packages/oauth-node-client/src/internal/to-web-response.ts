import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';

import { createArrivedResponse } from './arrived-response.ts';
import type { NodeHttpModules } from './node-http-modules.ts';

// statuses whose responses carry no body (and for which `new Response` refuses one); the 1xx
// ones among them never get here (see below)
const NULL_BODY = new Set([204, 205, 304]);
// what `new Response` accepts as a statusText: RFC 9110's reason-phrase
// @see https://www.rfc-editor.org/rfc/rfc9110#section-15-3
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * the body decoder for one coding of a `Content-Encoding`, as fetch decodes: gzip, deflate and
 * br, with fetch's (and curl's) lenient flush modes, so an encoded body that is empty (`content-length: 0`) reads
 * as "" rather than failing with "unexpected end of file"; a compressed stream that stops early
 * gives what it decoded, as fetch's does. a body the HTTP framing says was cut short still fails.
 */
const decoderFor = (zlib: NodeHttpModules['zlib'], coding: string) => {
	const { createBrotliDecompress, createGunzip, createInflate, constants } = zlib;
	switch (coding) {
		case 'gzip':
		case 'x-gzip':
			return createGunzip({ flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH });
		case 'deflate':
			return createInflate({ flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH });
		case 'br':
			return createBrotliDecompress({
				flush: constants.BROTLI_OPERATION_FLUSH,
				finishFlush: constants.BROTLI_OPERATION_FLUSH,
			});
		default:
			return undefined;
	}
};

const NO_DECODERS: readonly Transform[] = [];

/** the most codings one body may be wrapped in, as fetch allows: each is a decoder to run. */
const MAX_CODINGS = 5;

/**
 * the decoders for a `Content-Encoding` list (two headers arrive joined by node), in the order the
 * body goes through them: the last coding applied comes off first. none, and the body as it came,
 * when a coding is one fetch does not decode, or when there are more than `MAX_CODINGS`.
 */
const decodersFor = (zlib: NodeHttpModules['zlib'], encoding: string | undefined): readonly Transform[] => {
	// most bodies: nothing to decode, and nothing made for it
	if (encoding === undefined) return NO_DECODERS;
	const codings = encoding
		.split(',')
		.map((coding) => coding.trim().toLowerCase())
		.filter((coding) => coding !== '' && coding !== 'identity');
	if (codings.length > MAX_CODINGS) return NO_DECODERS;
	const decoders: Transform[] = [];
	for (let i = codings.length - 1; i >= 0; i--) {
		const decoder = decoderFor(zlib, codings[i]!);
		if (decoder === undefined) {
			for (const made of decoders) made.destroy();
			return NO_DECODERS;
		}
		decoders.push(decoder);
	}
	return decoders;
};

/**
 * a byte stream over a response body (through its decoders, if any, which the body is piped
 * through in that order: it is read from the last), with backpressure: the node
 * side is paused while the web side's queue is full. when the reader cancels, a response that has
 * fully arrived is drained, so its connection goes back to the pool (as fetch does); one still
 * arriving is destroyed, which closes its connection. a failure reads as fetch's: the abort's
 * reason after an abort, else `TypeError('terminated')` with the failure as its cause (a
 * connection closed mid-body).
 */
const toByteStream = (
	message: IncomingMessage,
	decoders: readonly Transform[],
	signal: AbortSignal | null | undefined,
) => {
	const source = decoders.at(-1) ?? message;
	// once cancelled, the controller must not be touched again (close() would throw)
	let cancelled = false;
	return new ReadableStream<Uint8Array>({
		start(controller) {
			source.on('data', (chunk: Buffer) => {
				if (cancelled) return;
				controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
				if ((controller.desiredSize ?? 1) <= 0) source.pause();
			});
			source.once('end', () => {
				if (!cancelled) controller.close();
			});
			source.once('error', (error) => {
				if (cancelled) return;
				const aborted = signal?.aborted === true && error === signal.reason;
				controller.error(aborted ? error : new TypeError('terminated', { cause: error }));
			});
		},
		pull() {
			source.resume();
		},
		cancel() {
			cancelled = true;
			if (decoders.length > 0) {
				// nothing more is decoded for a body nobody reads: a few KB of a hostile server's
				// gzip or br expand to gigabytes, which would be decoded in the background (a capped
				// read cancels at its cap); only the raw bytes still arriving are drained below.
				// the body is piped into the first decoder: unpiped there, or a destroyed decoder's
				// close would unpipe it later and leave it paused, never ending
				message.unpipe(decoders[0]);
				for (const decoder of decoders) decoder.destroy();
			}
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
	const raw = message.rawHeaders;
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
		const decoders = decodersFor(modules.zlib, message.headers['content-encoding']);
		if (decoders.length === 0 && message.complete) {
			// the whole body came with the headers: keep its bytes, build no stream until asked
			const chunks: Buffer[] = [];
			for (let chunk: Buffer | null = message.read(); chunk !== null; chunk = message.read()) {
				chunks.push(chunk);
			}
			// let 'end' come, so the socket goes back to the pool now
			message.resume();
			const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
			const bytes = new Uint8Array(whole.buffer as ArrayBuffer, whole.byteOffset, whole.byteLength);
			const head = { status, statusText, rawHeaders: raw };
			return createArrivedResponse(modules.stream.Readable.isDisturbed, bytes, head, url, signal);
		}
		if (decoders.length === 0) {
			body = toByteStream(message, decoders, signal);
		} else {
			// the body is read from the last decoder: every failure upstream reaches it (pipe does
			// not pass errors on), and when it closes (read to the end, failed or cancelled) the rest go
			const last = decoders[decoders.length - 1]!;
			message.once('error', (error) => last.destroy(error));
			for (const decoder of decoders)
				if (decoder !== last) decoder.once('error', (error) => last.destroy(error));
			last.once('close', () => {
				for (const decoder of decoders) if (decoder !== last) decoder.destroy();
				if (!message.complete) message.destroy();
			});
			let piped: Transform = message.pipe(decoders[0]!);
			for (const decoder of decoders.slice(1)) piped = piped.pipe(decoder);
			body = toByteStream(message, decoders, signal);
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
