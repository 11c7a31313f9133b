import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

const streamOf = (...chunks: string[]) =>
	new ReadableStream<Uint8Array>({
		start(controller) {
			for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
			controller.close();
		},
	});

describe("createNodeFetch: a caller's framing headers", () => {
	// a TCP server that keeps every byte it is sent, and answers 200 to each request but /silent
	let server: Server;
	let origin: string;
	let wire = '';
	const open = new Set<Socket>();
	beforeAll(async () => {
		server = createServer((socket) => {
			open.add(socket);
			socket.once('close', () => open.delete(socket));
			socket.on('error', () => {});
			socket.on('data', (data) => {
				const text = data.toString('latin1');
				wire += text;
				if (/^[A-Z]+ \/ /.test(text)) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(
		() =>
			new Promise<void>((resolve) => {
				for (const socket of open) socket.destroy();
				server.close(() => resolve());
			}),
	);

	it.each([
		[
			'transfer-encoding: chunked',
			{ method: 'POST', body: 'abcdef', headers: { 'transfer-encoding': 'chunked' } },
		],
		['transfer-encoding without a body', { headers: { 'Transfer-Encoding': 'gzip, chunked' } }],
		[
			'a content-length shorter than the body',
			{ method: 'POST', body: 'abcdef', headers: { 'content-length': '3' } },
		],
		[
			'a content-length longer than the body',
			{ method: 'POST', body: 'abc', headers: { 'content-length': '10' } },
		],
		['a content-length without a body', { method: 'POST', headers: { 'content-length': '5' } }],
		[
			'a content-length that is no number',
			{ method: 'POST', body: 'abc', headers: { 'content-length': '3, 3' } },
		],
	])('refuses %s before sending anything, as fetch does', async (_label, init: RequestInit) => {
		wire = '';

		const error = await local(`${origin}/`, init).catch((e) => e);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe('fetch failed');
		expect(error.cause).toBeInstanceOf(TypeError);
		expect(wire).toBe('');
	});

	it("sends a content-length that is the body's own", async () => {
		wire = '';
		const response = await local(`${origin}/`, {
			method: 'POST',
			body: 'abc',
			headers: { 'content-length': '3' },
		});

		expect(await response.text()).toBe('ok');
		expect(wire).toMatch(/^POST \/ HTTP\/1\.1\r\n/);
		expect(wire.match(/content-length: 3\r\n/gi)).toHaveLength(1);
		expect(wire).not.toMatch(/transfer-encoding/i);
		expect(wire.endsWith('\r\n\r\nabc')).toBe(true);
	});

	it.each([
		['longer', '3', ['abc', 'def']],
		['shorter', '10', ['abc']],
	])(
		'fails a stream body %s than its content-length, and never sends a byte past it',
		async (_label, length, chunks) => {
			wire = '';
			const init = {
				method: 'POST',
				body: streamOf(...chunks),
				duplex: 'half',
				headers: { 'content-length': length },
			};

			// no answer: the fetch can only end by failing
			const error = await local(`${origin}/silent`, init as RequestInit).catch((e) => e);

			expect(error).toBeInstanceOf(TypeError);
			expect(error.message).toBe('fetch failed');
			expect(error.cause.message).toContain('content-length');
			await expect.poll(() => open.size).toBe(0);
			// past the head (whose accept-encoding says "deflate")
			expect(wire.slice(wire.indexOf('\r\n\r\n') + 4)).not.toContain('def');
		},
	);

	it('sends a stream body that is as long as its content-length', async () => {
		wire = '';
		const init = {
			method: 'POST',
			body: streamOf('abc', 'def'),
			duplex: 'half',
			headers: { 'content-length': '6' },
		};

		const response = await local(`${origin}/`, init as RequestInit);

		expect(await response.text()).toBe('ok');
		await expect.poll(() => wire.endsWith('\r\n\r\nabcdef')).toBe(true);
	});
});
