import { once } from 'node:events';
import { get, type IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type LoopbackServer, startHttpServer } from '../test-utils/loopback-servers.ts';
import { loadNodeHttpModules, type NodeHttpModules } from './node-http-modules.ts';
import { toWebResponse } from './to-web-response.ts';

// a small body that decodes to far more than a reader takes before it cancels
const DECODED = 64 << 20;
const zeros = Buffer.alloc(DECODED);
const BOMBS: Record<string, Buffer> = {
	br: brotliCompressSync(zeros),
	gzip: gzipSync(zeros),
	deflate: deflateSync(zeros),
	// sent as `deflate` too, as some servers do
	'deflate-raw': deflateRawSync(zeros),
};

/** the modules, with each decoder they make handed to the test and its output counted. */
const watchedModules = async () => {
	const modules = await loadNodeHttpModules();
	const watched = { decoder: undefined as Transform | undefined, decoded: 0 };
	const watch = <T extends Transform>(decoder: T): T => {
		const push = decoder.push.bind(decoder);
		decoder.push = (chunk, encoding) => {
			if (chunk) watched.decoded += (chunk as Buffer).length;
			return push(chunk, encoding);
		};
		watched.decoder = decoder;
		return decoder;
	};
	const zlib = {
		...modules.zlib,
		createGunzip: (options) => watch(modules.zlib.createGunzip(options)),
		createBrotliDecompress: (options) => watch(modules.zlib.createBrotliDecompress(options)),
		createInflate: (options) => watch(modules.zlib.createInflate(options)),
		createInflateRaw: (options) => watch(modules.zlib.createInflateRaw(options)),
	} as NodeHttpModules['zlib'];
	return { modules: { ...modules, zlib }, watched };
};

describe('toWebResponse: a compressed body cancelled unread', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((request, response) => {
			const name = request.url!.slice(1);
			const bomb = BOMBS[name]!;
			const encoding = name === 'deflate-raw' ? 'deflate' : name;
			response.writeHead(200, { 'content-encoding': encoding, 'content-length': bomb.length }).end(bomb);
		});
	});
	afterAll(() => server.close());

	it.each(['br', 'gzip', 'deflate', 'deflate-raw'])(
		'stops decoding (%s) once the reader cancels, and drains the raw body',
		async (encoding) => {
			const { modules, watched } = await watchedModules();
			const message = await new Promise<IncomingMessage>((resolve, reject) => {
				get(`${server.origin}/${encoding}`, resolve).once('error', reject);
			});
			// the whole compressed body has arrived: the case that used to decode on in the background
			await expect.poll(() => message.complete).toBe(true);
			const response = toWebResponse(modules, message, `${server.origin}/`, 'GET', undefined);
			const reader = response.body!.getReader();
			expect((await reader.read()).value!.byteLength).toBeGreaterThan(0);

			await reader.cancel();
			const decoder = watched.decoder!;
			const decodedAtCancel = watched.decoded;

			expect(decoder.destroyed).toBe(true);
			if (!decoder.closed) await once(decoder, 'close');
			// it closed without reaching the end of its output, and gave nothing more after the cancel
			expect(decoder.readableEnded).toBe(false);
			expect(watched.decoded).toBe(decodedAtCancel);
			expect(watched.decoded).toBeLessThan(DECODED);
			// the raw bytes were read off the connection (not decoded), so it can be reused
			await expect.poll(() => message.readableEnded).toBe(true);
		},
	);
});
