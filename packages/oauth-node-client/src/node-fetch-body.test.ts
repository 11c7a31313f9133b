import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';
import { type RawServer, startRawServer } from './test-utils/raw-server.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

describe('createNodeFetch: bodies read as fetch reads them', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((request, response) => {
			const [, kind, encoding] = request.url!.split('/');
			if (kind === 'empty') {
				// an encoded body with nothing in it: nothing to decode
				response.writeHead(200, { 'content-encoding': encoding, 'content-length': 0 }).end();
			} else if (kind === 'not-modified') {
				response.writeHead(304, { 'content-encoding': encoding }).end();
			} else {
				response.writeHead(200, { 'content-type': 'application/json' }).end('{"small":true}');
			}
		});
	});
	afterAll(() => server.close());

	it.each(['gzip', 'deflate', 'br'])(
		'reads an empty body with content-encoding %s as ""',
		async (encoding) => {
			expect(await (await local(`${server.origin}/empty/${encoding}`)).text()).toBe('');
			const head = await local(`${server.origin}/empty/${encoding}`, { method: 'HEAD' });
			expect(await head.text()).toBe('');
			const notModified = await local(`${server.origin}/not-modified/${encoding}`);
			expect(notModified.status).toBe(304);
			expect(await notModified.text()).toBe('');
		},
	);

	it("fails text(), json() and the body's reader with the signal reason after an abort", async () => {
		for (const read of [
			(response: Response) => response.text(),
			(response: Response) => response.json(),
			(response: Response) => response.body!.getReader().read(),
			(response: Response) => response.clone().arrayBuffer(),
		]) {
			const controller = new AbortController();
			const response = await local(`${server.origin}/small`, { signal: controller.signal });
			// the whole body has arrived, unread, when the caller gives up on it
			await new Promise((resolve) => setTimeout(resolve, 20));
			const reason = new Error('gave up');
			controller.abort(reason);

			await expect(read(response)).rejects.toBe(reason);
		}
	});
});

describe('createNodeFetch: a body cut short', () => {
	let server: RawServer;
	beforeAll(async () => {
		server = await startRawServer((socket, head) => {
			const path = head.split(' ')[1];
			const answer =
				path === '/length'
					? 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten..'
					: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n';
			socket.write(answer);
			setTimeout(() => socket.end(), 20);
		});
	});
	afterAll(() => server.close());

	it.each(['/length', '/chunked'])(
		'rejects the read with TypeError("terminated") as fetch does (%s)',
		async (path) => {
			const response = await local(`${server.origin}${path}`);

			const error = await response.text().catch((e) => e);

			expect(error).toBeInstanceOf(TypeError);
			expect(error.message).toBe('terminated');
			expect(error.cause).toBeInstanceOf(Error);
		},
	);
});

describe('createNodeFetch: a compressed body that fails to decode', () => {
	let server: LoopbackServer;
	// not gzip at all, and more than a pipe's buffers hold: the message is paused when decoding fails
	const garbage = Buffer.alloc(100_000, 'not gzip ');
	beforeAll(async () => {
		server = await startHttpServer((request, response) => {
			if (request.url === '/corrupt') {
				response
					.writeHead(200, { 'content-encoding': 'gzip', 'content-length': garbage.length })
					.end(garbage);
			} else {
				response.writeHead(200).end('fine');
			}
		});
	});
	afterAll(() => server.close());

	it('fails the read, and its connection goes back to the pool for the next request', async () => {
		const response = await local(`${server.origin}/corrupt`);
		await expect(response.text()).rejects.toThrow(TypeError);
		// the body had wholly arrived: read to its end, its connection is reused, not held open
		expect(await (await local(`${server.origin}/next`)).text()).toBe('fine');
		expect(server.connections).toBe(1);
	});
});

describe('createNodeFetch: deflate bodies, zlib-wrapped or raw, as fetch reads them', () => {
	let server: LoopbackServer;
	const text = 'a deflated answer, '.repeat(50);
	// more than the decoders' and the body's buffers hold: read through their backpressure
	const large = Buffer.concat([Buffer.alloc(4 * 1024 * 1024, 'z'), Buffer.from('end')]);
	beforeAll(async () => {
		server = await startHttpServer((request, response) => {
			if (request.url === '/raw/large') {
				response.writeHead(200, { 'content-encoding': 'deflate' }).end(deflateRawSync(large));
				return;
			}
			const encoded = request.url!.startsWith('/raw') ? deflateRawSync(text) : deflateSync(text);
			response.writeHead(200, { 'content-encoding': 'deflate' });
			if (request.url!.endsWith('/split')) {
				// the first byte alone: too little to tell the formats apart
				response.write(encoded.subarray(0, 1));
				setTimeout(() => response.end(encoded.subarray(1)), 20);
			} else {
				response.end(encoded);
			}
		});
	});
	afterAll(() => server.close());

	it.each(['/raw', '/raw/split', '/zlib', '/zlib/split'])('decodes %s', async (path) => {
		expect(await (await local(`${server.origin}${path}`)).text()).toBe(text);
	});

	it('decodes a large raw body whole, and hands back what was read when cancelled', async () => {
		const whole = Buffer.from(await (await local(`${server.origin}/raw/large`)).arrayBuffer());
		expect(whole.equals(large)).toBe(true);

		const reader = (await local(`${server.origin}/raw/large`)).body!.getReader();
		const first = await reader.read();
		expect(first.value!.length).toBeGreaterThan(0);
		await reader.cancel();
		// the connection is let go, and the next request gets an answer
		expect(await (await local(`${server.origin}/raw`)).text()).toBe(text);
	});

	it("asks for compression as fetch does (gzip, deflate), unless the caller's own accept-encoding says otherwise", async () => {
		await (await local(`${server.origin}/raw`)).text();
		await (await local(`${server.origin}/raw`, { headers: { 'accept-encoding': 'identity' } })).text();
		await (await local(`${server.origin}/raw`, { headers: { 'Accept-Encoding': 'br' } })).text();

		const sent = server.requests.slice(-3).map((request) => request.headers['accept-encoding']);
		expect(sent).toEqual(['gzip, deflate', 'identity', 'br']);
	});
});

describe('createNodeFetch: a body that stalls past inactivityTimeout', () => {
	let server: RawServer;
	const impatient = createNodeFetch({ allowPrivateNetwork: true, inactivityTimeout: 100 });
	beforeAll(async () => {
		server = await startRawServer((socket, head) => {
			// a few bytes of the body, then nothing more (the connection stays open)
			if (head.split(' ')[1] === '/deflate') {
				const start = deflateSync('the start of a longer answer').subarray(0, 8);
				socket.write('HTTP/1.1 200 OK\r\ncontent-encoding: deflate\r\ncontent-length: 100\r\n\r\n');
				socket.write(start);
			} else {
				socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nthe start');
			}
		});
	});
	afterAll(() => server.close());

	it.each(['/plain', '/deflate'])('fails the read with the timeout as its cause (%s)', async (path) => {
		const response = await impatient(`${server.origin}${path}`);

		const error = await response.text().catch((e) => e);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe('terminated');
		expect(error.cause.message).toBe('no data for 100 ms');
	});
});

describe('createNodeFetch: a Content-Encoding list read as fetch reads it', () => {
	const text = 'an encoded answer';
	/** `text` gzipped `times` times. */
	const gzipped = (times: number) => {
		let body = Buffer.from(text);
		for (let i = 0; i < times; i++) body = gzipSync(body);
		return body;
	};
	// each list, and the body sent under it
	const LISTS: Record<string, Buffer> = {
		gzip: gzipped(1),
		' GZIP ': gzipped(1),
		'gzip, gzip, gzip, gzip, gzip': gzipped(5),
		// a coding fetch does not decode among them: the body as it came
		'gzip, identity': gzipped(1),
		'identity, gzip': gzipped(1),
		'gzip,': gzipped(1),
		'gzip, , gzip': gzipped(2),
		// (not zstd, which Node 24's fetch decodes and Node 20's does not)
		'gzip, br2': gzipped(1),
		identity: Buffer.from(text),
		'': Buffer.from(text),
		// more than five: the fetch fails
		'gzip, gzip, gzip, gzip, gzip, gzip': gzipped(6),
	};
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((request, response) => {
			const list = decodeURIComponent(request.url!.slice(1));
			response.writeHead(200, { 'content-encoding': list }).end(LISTS[list]);
		});
	});
	afterAll(() => server.close());

	/** what a fetch made of the answer: its body, or the cause of its failure. */
	const outcome = async (fetcher: typeof fetch, list: string) => {
		try {
			const response = await fetcher(`${server.origin}/${encodeURIComponent(list)}`);
			return Buffer.from(await response.arrayBuffer()).toString('base64');
		} catch (error) {
			return `failed: ${((error as Error).cause as Error | undefined)?.message}`;
		}
	};

	it.each(Object.keys(LISTS))('%j: as the global fetch', async (list) => {
		const ours = await outcome(local, list);
		expect(ours).toBe(await outcome(globalThis.fetch, list));
		if (list.split(',').length > 5) expect(ours).toMatch(/^failed: too many content-encodings/);
	});
});
