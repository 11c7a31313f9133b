import type { ContentCoding } from './content-coding.ts';
import { isZlibHeader } from './deflate-decoder.ts';
import type { NodeHttpModules } from './node-http-modules.ts';

/**
 * the most a body that arrived whole is decoded to in one go. a larger one (a few KB of a hostile
 * server's body can expand to gigabytes) goes through the streaming decoders, which decode only
 * as fast as the body is read and stop when a capped read cancels.
 */
export const MAX_DECODED_AT_ONCE: number = 1 << 20;

/**
 * a compressed body that has wholly arrived, decoded at once, as the streaming decoders would
 * decode it (the same lenient flushes: an empty or cut-short stream gives what it holds). on Node
 * 20 a zlib stream and its pipe cost several hundred microseconds a response, the decoding itself
 * a few. `codings` are in the order they were applied; `undefined` when the body does not decode
 * (the streaming decoders then fail it as fetch does) or decodes to more than
 * `MAX_DECODED_AT_ONCE`.
 */
export const decodeArrived = (
	zlib: NodeHttpModules['zlib'],
	codings: readonly ContentCoding[],
	body: Buffer,
): Buffer | undefined => {
	const { constants } = zlib;
	const options = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: MAX_DECODED_AT_ONCE };
	/** `body` with one coding taken off. */
	const decode = (coding: ContentCoding, body: Buffer): Buffer => {
		switch (coding) {
			case 'gzip':
			case 'x-gzip':
				return zlib.gunzipSync(body, options);
			case 'deflate':
				// zlib-wrapped, or the raw DEFLATE some servers send under that name (a body of under
				// two bytes is read as raw, as the streaming decoder reads it)
				return isZlibHeader(body) ? zlib.inflateSync(body, options) : zlib.inflateRawSync(body, options);
			case 'br':
				return zlib.brotliDecompressSync(body, {
					finishFlush: constants.BROTLI_OPERATION_FLUSH,
					maxOutputLength: MAX_DECODED_AT_ONCE,
				});
		}
	};
	let decoded = body;
	try {
		// the last coding applied comes off first
		for (let i = codings.length - 1; i >= 0; i--) decoded = decode(codings[i]!, decoded);
	} catch {
		// corrupt, or over the bound (ERR_BUFFER_TOO_LARGE)
		return undefined;
	}
	return decoded;
};
