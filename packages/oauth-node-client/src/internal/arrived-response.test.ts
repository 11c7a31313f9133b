import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { createNodeFetch } from '../create-node-fetch.ts';
import { startHttpServer } from '../test-utils/loopback-servers.ts';
import { arrivedResponseClass, createArrivedResponse } from './arrived-response.ts';

const bytesOf = (text: string) => new Uint8Array(new TextEncoder().encode(text));
const make = (text: string, type = 'application/json') =>
	createArrivedResponse(
		Readable.isDisturbed,
		bytesOf(text),
		{ status: 200, statusText: 'OK', rawHeaders: ['Content-Type', type] },
		'https://pds.example/xrpc/x',
	);

const readAll = async (stream: ReadableStream<Uint8Array>) => {
	let text = '';
	const decoder = new TextDecoder();
	for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk);
	return text;
};

describe('ArrivedResponse', () => {
	it('is a Response with its status, headers and url, and reads as json, text, bytes and blob', async () => {
		const response = make('{"a":1}');
		expect(response).toBeInstanceOf(Response);
		expect(response.status).toBe(200);
		expect(response.statusText).toBe('OK');
		expect(response.ok).toBe(true);
		expect(response.url).toBe('https://pds.example/xrpc/x');
		expect(response.headers.get('content-type')).toBe('application/json');
		expect(response.bodyUsed).toBe(false);
		expect(await response.json()).toEqual({ a: 1 });
		expect(response.bodyUsed).toBe(true);

		expect(await make('héllo').text()).toBe('héllo');
		expect([...new Uint8Array(await make('ab').arrayBuffer())]).toEqual([97, 98]);
		const blob = await make('xyz', 'text/plain').blob();
		expect(blob.type).toBe('text/plain');
		expect(await blob.text()).toBe('xyz');
		expect(await (await make('a=1&b=2', 'application/x-www-form-urlencoded').formData()).get('b')).toBe('2');
	});

	it('refuses a second read, as any Response does', async () => {
		const response = make('{}');
		await response.text();
		await expect(response.json()).rejects.toThrow(TypeError);
		await expect(response.arrayBuffer()).rejects.toThrow(TypeError);
		expect(() => response.clone()).toThrow(TypeError);
	});

	it('gives a stream on demand; reading it uses the body, and the other readers then see the rest', async () => {
		const response = make('{"streamed":true}');
		const body = response.body!;
		expect(body).toBeInstanceOf(ReadableStream);
		// the same stream every time
		expect(response.body).toBe(body);
		expect(response.bodyUsed).toBe(false);
		expect(await readAll(body)).toBe('{"streamed":true}');
		expect(response.bodyUsed).toBe(true);
		await expect(response.text()).rejects.toThrow(TypeError);
	});

	it('reads through the stream once one was made and left untouched', async () => {
		const response = make('{"b":2}');
		void response.body;
		expect(await response.json()).toEqual({ b: 2 });
		expect(response.bodyUsed).toBe(true);
	});

	it('clones before and after the stream was made, each copy reading the whole body', async () => {
		const response = make('{"c":3}');
		const early = response.clone();
		expect(early.url).toBe(response.url);
		expect(await early.json()).toEqual({ c: 3 });

		void response.body;
		const late = response.clone();
		expect(late.url).toBe(response.url);
		expect(await late.text()).toBe('{"c":3}');
		expect(await response.json()).toEqual({ c: 3 });
	});

	it('is what the transport gives for a small answer that came with its headers', async () => {
		const server = await startHttpServer((_request, response) => {
			response.writeHead(200, { 'content-type': 'application/json' }).end('{"small":true}');
		});
		try {
			const fetch = createNodeFetch({ allowPrivateNetwork: true });
			const response = await fetch(`${server.origin}/`);
			expect(response).toBeInstanceOf(arrivedResponseClass());
			expect(await response.json()).toEqual({ small: true });
			// the connection went back to the pool with the body: the next request reuses it
			await (await fetch(`${server.origin}/`)).text();
			expect(server.connections).toBe(1);
		} finally {
			await server.close();
		}
	});
});
