import type { Duplex, Transform } from 'node:stream';
import type { ZlibOptions } from 'node:zlib';

import type { NodeHttpModules } from './node-http-modules.ts';

/**
 * whether a body starts with a zlib header (RFC 1950): method 8 (deflate), and the two bytes a
 * multiple of 31. a raw DEFLATE block almost never passes both.
 */
export const isZlibHeader = (head: Buffer): boolean => {
	return head.length >= 2 && (head[0]! & 0x0f) === 8 && ((head[0]! << 8) | head[1]!) % 31 === 0;
};

/**
 * the decoder for `Content-Encoding: deflate`, as fetch decodes it: the zlib format the coding
 * names, or the raw DEFLATE some servers send under that name, told apart by the first two bytes.
 * the inflater is made once they have arrived; it decodes only as fast as this is read (a few KB
 * of a hostile server's body expand to gigabytes), and destroying this destroys it.
 */
export const createDeflateDecoder = (
	{ zlib, stream }: Pick<NodeHttpModules, 'zlib' | 'stream'>,
	options: ZlibOptions,
): Duplex => {
	let head: Buffer | undefined;
	let inflater: Transform | undefined;
	const start = (first: Buffer): Transform => {
		const made = isZlibHeader(first) ? zlib.createInflate(options) : zlib.createInflateRaw(options);
		// paused while this decoder's buffer is full: zlib then stops inflating (see read())
		made.on('data', (chunk: Buffer) => {
			if (!decoder.push(chunk)) made.pause();
		});
		made.once('end', () => decoder.push(null));
		made.on('error', (error) => decoder.destroy(error));
		return made;
	};
	const decoder: Duplex = new stream.Duplex({
		write(chunk: Buffer, _encoding, callback) {
			if (inflater === undefined) {
				head = head === undefined ? chunk : Buffer.concat([head, chunk]);
				if (head.length < 2) return callback();
				inflater = start(head);
				chunk = head;
				head = undefined;
			}
			// called back once inflated, which waits while the inflater is paused: the body's pipe
			// into this then waits too. a failure comes as the inflater's 'error', which destroys this
			inflater.write(chunk, () => callback());
		},
		final(callback) {
			if (inflater === undefined) {
				// no body at all, or one of a byte: too short for a zlib header
				if (head === undefined) {
					decoder.push(null);
					return callback();
				}
				inflater = start(head);
				inflater.write(head);
			}
			inflater.end();
			callback();
		},
		read() {
			inflater?.resume();
		},
		destroy(error, callback) {
			inflater?.destroy();
			callback(error);
		},
	});
	return decoder;
};
