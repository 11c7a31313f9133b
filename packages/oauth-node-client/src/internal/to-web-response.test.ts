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

describe('toWebResponse: a compressed body that arrived whole', () => {
	const text = JSON.stringify({ records: Array.from({ length: 200 }, (_, i) => ({ uri: `at://x/${i}` })) });
	const gzipped = gzipSync(text);
	const BODIES: Record<string, [encoding: string, body: Buffer]> = {
		gzip: ['gzip', gzipped],
		'x-gzip': ['x-gzip', gzipped],
		deflate: ['deflate', deflateSync(text)],
		'deflate-raw': ['deflate', deflateRawSync(text)],
		br: ['br', brotliCompressSync(text)],
		// applied in this order: gzip first, then br
		stacked: ['gzip, br', brotliCompressSync(gzipped)],
		// two gzip members, one after the other, read as one body as fetch reads them
		members: ['gzip', Buffer.concat([gzipSync(text.slice(0, 100)), gzipSync(text.slice(100))])],
		// cut short inside the compressed stream (the HTTP framing is whole): what it holds, as fetch
		truncated: ['gzip', gzipped.subarray(0, gzipped.length >> 1)],
		'br-truncated': ['br', brotliCompressSync(text).subarray(0, 40)],
		empty: ['gzip', Buffer.alloc(0)],
		corrupt: ['gzip', Buffer.from('not gzip at all')],
		// more than is decoded at once (1 MiB)
		large: ['gzip', gzipSync(Buffer.alloc(3 << 20, 'z'))],
	};
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((request, response) => {
			const [encoding, body] = BODIES[request.url!.slice(1)]!;
			response.writeHead(200, { 'content-encoding': encoding, 'content-length': body.length }).end(body);
		});
	});
	afterAll(() => server.close());

	const arrived = async (name: string) => {
		const message = await new Promise<IncomingMessage>((resolve, reject) => {
			get(`${server.origin}/${name}`, resolve).once('error', reject);
		});
		await expect.poll(() => message.complete).toBe(true);
		return message;
	};
	/** what the streaming decoders make of it: a response built before the body arrived. */
	const streamed = async (name: string, modules: NodeHttpModules) => {
		const message = await new Promise<IncomingMessage>((resolve, reject) => {
			get(`${server.origin}/${name}`, resolve).once('error', reject);
		});
		return toWebResponse(modules, message, `${server.origin}/`, 'GET', undefined)
			.text()
			.catch((error: unknown) => error);
	};

	it.each([
		'gzip',
		'x-gzip',
		'deflate',
		'deflate-raw',
		'br',
		'stacked',
		'members',
		'truncated',
		'br-truncated',
		'empty',
	])('decodes %s at once, with no zlib stream, as the streaming decoders do', async (name) => {
		const { modules, watched } = await watchedModules();
		const response = toWebResponse(modules, await arrived(name), `${server.origin}/`, 'GET', undefined);
		const text = await response.text();
		expect(watched.decoder).toBeUndefined();
		expect(text).toBe(await streamed(name, modules));
		// the headers stay as they came, as fetch keeps them
		expect(response.headers.get('content-encoding')).toBe(BODIES[name]![0]);
	});

	it('leaves a body over 1 MiB decoded, or one that does not decode, to the streaming decoders', async () => {
		const { modules, watched } = await watchedModules();
		const large = toWebResponse(modules, await arrived('large'), `${server.origin}/`, 'GET', undefined);
		expect(watched.decoder).toBeDefined();
		expect(Buffer.from(await large.arrayBuffer()).equals(Buffer.alloc(3 << 20, 'z'))).toBe(true);

		const watching = await watchedModules();
		const message = await arrived('corrupt');
		const corrupt = toWebResponse(watching.modules, message, `${server.origin}/`, 'GET', undefined);
		expect(watching.watched.decoder).toBeDefined();
		const error = await corrupt.text().catch((err: unknown) => err);
		expect(error).toBeInstanceOf(TypeError);
		expect(error).toEqual(await streamed('corrupt', await loadNodeHttpModules()));
		// the raw bytes were read to their end, so the connection can be reused
		await expect.poll(() => message.readableEnded).toBe(true);
	});
});
