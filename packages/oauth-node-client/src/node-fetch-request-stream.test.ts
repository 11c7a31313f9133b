import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

/**
 * a body stream that sends one chunk, then fails with `error` once `when` settles (the server has
 * the upload: on a busy machine a fixed delay could fail it before the request even left).
 */
const failingBody = (error: Error, when: Promise<unknown>, failed: (at: number) => void) =>
	new ReadableStream<Uint8Array>({
		start(controller) {
			controller.enqueue(new TextEncoder().encode('hello'));
			void when.then(() => {
				failed(Date.now());
				controller.error(error);
			});
		},
	});

describe('createNodeFetch: a request body stream that fails', () => {
	let server: Server;
	let origin: string;
	// how each upload ended, as the server saw it: whole, or cut off by the client
	const uploads: Promise<'complete' | 'aborted'>[] = [];
	beforeAll(async () => {
		server = createServer((request: IncomingMessage, response) => {
			uploads.push(
				new Promise((resolve) => {
					request.on('error', () => {});
					request.resume();
					request.once('end', () => resolve('complete'));
					request.once('close', () => resolve(request.complete ? 'complete' : 'aborted'));
				}),
			);
			request.once('end', () => response.end('ok'));
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(async () => {
		server.closeAllConnections();
		await new Promise((resolve) => server.close(resolve));
	});

	it("rejects at once with a TypeError whose cause is the stream's error, and cuts the upload off", async () => {
		const broken = new Error('source broke');
		let failedAt = Number.NaN;
		const serverHasIt = expect.poll(() => uploads.length, { timeout: 10_000 }).toBe(1);

		const error = await local(origin, {
			method: 'POST',
			body: failingBody(broken, serverHasIt, (at) => (failedAt = at)),
			duplex: 'half',
		} as RequestInit).catch((e) => e);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe('fetch failed');
		expect(error.cause).toBe(broken);
		// at once: not after the inactivity timeout (300 s)
		expect(Date.now() - failedAt).toBeLessThan(1_000);
		expect(await uploads[0]).toBe('aborted');
	});

	it('cancels the body stream when the request fails first', async () => {
		let cancelled: unknown;
		const body = new ReadableStream<Uint8Array>({
			pull: () => new Promise(() => {}),
			cancel(reason) {
				cancelled = reason ?? 'cancelled';
			},
		});
		const controller = new AbortController();
		const pending = local(origin, {
			method: 'POST',
			body,
			duplex: 'half',
			signal: controller.signal,
		} as RequestInit);
		setTimeout(() => controller.abort(), 50);

		await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
		await expect.poll(() => cancelled).toBeDefined();
	});
});

describe('createNodeFetch: a Request whose stream body has not ended', () => {
	it("rejects with the signal's reason on abort, and cancels the stream", async () => {
		let cancelled: unknown;
		const body = new ReadableStream<Uint8Array>({
			start(controller) {
				// one chunk, and never an end
				controller.enqueue(new TextEncoder().encode('A'));
			},
			cancel(reason) {
				cancelled = reason;
			},
		});
		const controller = new AbortController();
		const request = new Request('http://127.0.0.1:9/', {
			method: 'POST',
			body,
			duplex: 'half',
			signal: controller.signal,
		} as RequestInit);
		const pending = local(request);
		const reason = new Error('gave up');

		controller.abort(reason);

		await expect(pending).rejects.toBe(reason);
		expect(cancelled).toBe(reason);
	});
});

describe('createNodeFetch: a Node stream or an async iterable as the body, as fetch takes them', () => {
	let server: Server;
	let origin: string;
	beforeAll(async () => {
		server = createServer((request, response) => {
			let body = '';
			request.setEncoding('utf8');
			request.on('data', (chunk: string) => (body += chunk));
			request.once('end', () => response.end(`${request.headers['transfer-encoding']} ${body}`));
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(async () => {
		server.closeAllConnections();
		await new Promise((resolve) => server.close(resolve));
	});

	it('closes a stream body it refuses before sending (a private address, an aborted signal)', async () => {
		const guarded = createNodeFetch();
		const refused = Readable.from([Buffer.from('x')]);
		await expect(
			guarded('http://10.0.0.1/', { method: 'POST', body: refused as never, duplex: 'half' } as RequestInit),
		).rejects.toMatchObject({ name: 'PrivateNetworkError' });
		expect(refused.destroyed).toBe(true);
		const aborted = Readable.from([Buffer.from('x')]);
		const reason = new Error('gave up');
		await expect(
			local(`${origin}/`, {
				method: 'POST',
				body: aborted as never,
				duplex: 'half',
				signal: AbortSignal.abort(reason),
			} as RequestInit),
		).rejects.toBe(reason);
		expect(aborted.destroyed).toBe(true);
	});

	it.each([
		['a Node Readable', () => Readable.from([Buffer.from('blob '), Buffer.from('bytes')])],
		[
			'an async generator of bytes and text',
			() =>
				(async function* () {
					yield new TextEncoder().encode('blob ');
					yield 'bytes';
				})(),
		],
	])('streams %s, chunked', async (_label, make: () => unknown) => {
		const init = { method: 'POST', body: make() as BodyInit, duplex: 'half' } as RequestInit;
		const response = await local(`${origin}/`, init);
		expect(await response.text()).toBe('chunked blob bytes');
	});
});
