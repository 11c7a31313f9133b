import type { IncomingMessage } from 'node:http';

import { createArrivedResponse } from './arrived-response.ts';
import type { NodeHttpModules } from './node-http-modules.ts';

// statuses whose responses carry no body (and for which `new Response` refuses one)
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** the body decoder for a `Content-Encoding`, as fetch decodes: gzip, deflate and br. */
const decoderFor = (zlib: NodeHttpModules['zlib'], encoding: string | undefined) => {
	const { createBrotliDecompress, createGunzip, createInflate } = zlib;
	switch (encoding?.trim().toLowerCase()) {
		case 'gzip':
		case 'x-gzip':
			return createGunzip();
		case 'deflate':
			return createInflate();
		case 'br':
			return createBrotliDecompress();
		default:
			return undefined;
	}
};

/**
 * a byte stream over a node stream, with backpressure: the node side is paused while the web
 * side's queue is full. when the reader cancels, a response that has fully arrived is drained,
 * so its connection goes back to the pool (as fetch does); one still arriving is destroyed,
 * which closes its connection.
 */
const toByteStream = (
	source: NodeJS.ReadableStream & { destroy(error?: Error): void },
	message: IncomingMessage,
) => {
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
				if (!cancelled) controller.error(error);
			});
		},
		pull() {
			source.resume();
		},
		cancel() {
			cancelled = true;
			if (!message.complete) {
				source.destroy();
				return;
			}
			// resolved once the connection is back in the pool, so that a request sent right
			// after (a DPoP nonce retry) reuses it instead of opening another
			const freed = new Promise<void>((resolve) => {
				message.once('end', () => setImmediate(resolve));
				message.once('close', () => setImmediate(resolve));
			});
			source.resume();
			message.resume();
			return message.readableEnded ? undefined : freed;
		},
	});
};

/**
 * wraps a node:http response into a standard `Response` whose body streams as it arrives; a body
 * that had wholly arrived by the time this is called is kept as bytes (see `createArrivedResponse`).
 */
export const toWebResponse = (
	modules: NodeHttpModules,
	message: IncomingMessage,
	url: string,
	method: string,
): Response => {
	const raw = message.rawHeaders;
	const status = message.statusCode ?? 0;
	const statusText = message.statusMessage ?? '';
	let body: ReadableStream<Uint8Array> | null = null;
	if (method === 'HEAD' || NULL_BODY.has(status)) {
		// nothing will come: let the socket go back to the pool
		message.resume();
	} else {
		const decoder = decoderFor(modules.zlib, message.headers['content-encoding']);
		if (decoder === undefined && message.complete) {
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
			return createArrivedResponse(modules.stream.Readable.isDisturbed, bytes, head, url);
		}
		if (decoder === undefined) {
			body = toByteStream(message, message);
		} else {
			message.once('error', (error) => decoder.destroy(error));
			decoder.once('close', () => {
				if (!message.complete) message.destroy();
			});
			body = toByteStream(message.pipe(decoder), message);
		}
	}

	const headers: [string, string][] = [];
	for (let i = 0; i < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!]);
	const response = new Response(body, { status, statusText, headers });
	// what fetch would report: the URL this response came from
	Object.defineProperty(response, 'url', { value: url });
	return response;
};
