import { once } from 'node:events';
import stream, { type Transform } from 'node:stream';
import zlib, { deflateRawSync, deflateSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { createDeflateDecoder } from './deflate-decoder.ts';

const options = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };

/** the zlib module, with the inflater the decoder makes handed to the test. */
const watchedZlib = () => {
	const made: Transform[] = [];
	const keep = <T extends Transform>(inflater: T): T => {
		made.push(inflater);
		return inflater;
	};
	const watched = {
		...zlib,
		createInflate: (o?: zlib.ZlibOptions) => keep(zlib.createInflate(o)),
		createInflateRaw: (o?: zlib.ZlibOptions) => keep(zlib.createInflateRaw(o)),
	} as typeof zlib;
	return { zlib: watched, made };
};

const decode = async (chunks: Buffer[]): Promise<string> => {
	const decoder = createDeflateDecoder({ zlib, stream }, options);
	const out: Buffer[] = [];
	decoder.on('data', (chunk: Buffer) => out.push(chunk));
	for (const chunk of chunks) decoder.write(chunk);
	decoder.end();
	await once(decoder, 'end');
	return Buffer.concat(out).toString();
};

describe('createDeflateDecoder', () => {
	const text = 'deflated, '.repeat(100);

	it.each([
		['zlib-wrapped', deflateSync(text)],
		['raw', deflateRawSync(text)],
	])('decodes %s deflate, in one chunk or a byte at a time', async (_kind, encoded) => {
		expect(await decode([encoded])).toBe(text);
		expect(await decode([...encoded].map((byte) => Buffer.of(byte)))).toBe(text);
	});

	it('ends at once for an empty body', async () => {
		expect(await decode([])).toBe('');
	});

	it('inflates no further than its reader reads', async () => {
		const { zlib: watched, made } = watchedZlib();
		const decoder = createDeflateDecoder({ zlib: watched, stream }, options);
		// 16 MB of zeros in about 16 KB: written whole, never read
		decoder.end(deflateRawSync(Buffer.alloc(16 << 20)));
		await expect.poll(() => made.length).toBe(1);
		const inflater = made[0]!;

		// held back once this decoder's buffer is full: what it decoded is what the buffers hold
		await expect.poll(() => inflater.isPaused()).toBe(true);
		expect(decoder.readableLength + inflater.readableLength).toBeLessThan(1 << 20);

		decoder.destroy();
		expect(inflater.destroyed).toBe(true);
	});

	it('goes on inflating once a reader that fell behind reads again', async () => {
		const decoder = createDeflateDecoder({ zlib, stream }, options);
		decoder.end(deflateRawSync(Buffer.alloc(1 << 20)));
		// nothing reads for a while: the inflater is paused meanwhile
		await new Promise((resolve) => setTimeout(resolve, 100));
		let read = 0;
		for await (const chunk of decoder) read += (chunk as Buffer).length;
		expect(read).toBe(1 << 20);
	});

	it('holds its writer back while the inflater is paused', async () => {
		const decoder = createDeflateDecoder({ zlib, stream }, options);
		// a body that inflates to 256 MB, written 4 KB at a time and never read: the writes' pipe
		// must be told to wait, not pile the compressed body up in the inflater
		const encoded = deflateRawSync(Buffer.alloc(256 << 20));
		for (let at = 0; at < 256 << 10 && at < encoded.length; at += 4096) {
			decoder.write(encoded.subarray(at, at + 4096));
		}
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(decoder.writableNeedDrain).toBe(true);
		decoder.destroy();
		// making the body takes 1.3 s of CPU here, past the 5 s default on a loaded machine; a
		// much smaller one (32 MB) leaves room in the buffers of Node 22 and later (64 KiB streams)
	}, 30_000);
});
