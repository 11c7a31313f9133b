import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

// a full collection on demand: the flag makes V8 define gc() in contexts made after it is set
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

// 200 KB that gzip does not shrink: an answer that comes in several reads
const incompressible = gzipSync(randomBytes(200_000));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** the server's answers held back, by path, until the test lets them go. */
const held = new Map<string, (() => void)[]>();
// how many requests each connection has carried
const requestsOn = new WeakMap<object, number>();
const release = (path: string) => {
	for (const answer of held.get(path) ?? []) answer();
	held.delete(path);
};
/** waits until `count` requests are held at `path` (a loaded machine may take a while to send one). */
const arrival = async (path: string, count = 1): Promise<void> => {
	for (let wait = 0; wait < 300 && (held.get(path)?.length ?? 0) < count; wait++) await sleep(10);
	expect(held.get(path)?.length ?? 0).toBeGreaterThanOrEqual(count);
};

/** answers the requests held at `path`, those arriving later too, until `responses` have all come. */
const answerAll = async (path: string, responses: Promise<Response>[]): Promise<string[]> => {
	let finished = false;
	const all = Promise.all(responses.map(async (response) => (await response).text())).finally(
		() => (finished = true),
	);
	while (!finished) {
		release(path);
		await sleep(10);
	}
	return all;
};

describe('createNodeFetch: maxRequestsPerOrigin', () => {
	let server: LoopbackServer;
	let other: LoopbackServer;
	// connections open at the server right now, and the most at once
	let open = 0;
	let most = 0;
	beforeAll(async () => {
		server = await startHttpServer((request, response) => {
			const path = new URL(request.url!, 'http://x').pathname;
			if (path.startsWith('/held')) {
				const list = held.get(path) ?? [];
				list.push(() => response.end(`late ${path}`));
				held.set(path, list);
			} else if (path === '/processing') {
				// interim answers (102) and never a final one: the connection is never silent, and the
				// request never has its answer
				const timer = setInterval(() => response.writeProcessing(), 20);
				response.once('close', () => clearInterval(timer));
			} else if (path === '/gzip-chunked') {
				// a gzip body of 60 KB, every byte sent with the headers in small chunks: whole when the
				// answer is handed over, yet it must still go through a decoder, which holds it back
				response.writeHead(200, { 'content-encoding': 'gzip' });
				response.cork();
				for (let at = 0; at < incompressible.length && at < 60_000; at += 2048) {
					response.write(incompressible.subarray(at, Math.min(at + 2048, 60_000)));
				}
				response.end();
			} else if (path === '/gzip-large') {
				response.writeHead(200, { 'content-encoding': 'gzip' }).end(incompressible);
			} else if (path === '/big') {
				response.end(Buffer.alloc(4 * 1024 * 1024));
			} else if (path.startsWith('/second-on-its-connection-fails')) {
				// a kept-alive connection the server drops as its second request arrives: the client's
				// GET is sent once more, on a new connection
				const seen = (requestsOn.get(request.socket) ?? 0) + 1;
				requestsOn.set(request.socket, seen);
				if (seen === 2) request.socket.destroy();
				else response.end(`ok ${path}`);
			} else if (path === '/reset') {
				response.socket?.destroy();
			} else if (path === '/redirect') {
				response.writeHead(302, { location: '/plain' }).end();
			} else {
				response.end(`ok ${path}`);
			}
		});
		server.server.on('connection', (socket) => {
			open++;
			most = Math.max(most, open);
			socket.once('close', () => open--);
		});
		other = await startHttpServer((_request, response) => response.end('other'));
	});
	afterAll(async () => {
		for (const path of [...held.keys()]) release(path);
		await server.close();
		await other.close();
	});

	it('opens no more connections to an origin than the limit, and reuses them for the requests that waited', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxRequestsPerOrigin: 3 });
		const before = server.connections;
		most = open;
		const texts = await Promise.all(
			Array.from({ length: 60 }, async (_, i) => (await fetch(`${server.origin}/n${i}`)).text()),
		);
		expect(texts).toEqual(Array.from({ length: 60 }, (_, i) => `ok /n${i}`));
		// a slot is handed on only once its connection is back in the pool, so no new one is opened
		expect(server.connections - before).toBe(3);
		expect(most).toBeLessThanOrEqual(3);
	});

	it.each([
		['by default, 256', undefined, 256],
		['with Infinity, every one', Number.POSITIVE_INFINITY, 300],
	])('lets in at once %s', async (_, maxRequestsPerOrigin, expected) => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxRequestsPerOrigin });
		const path = `/held-${expected}`;
		const responses = Array.from({ length: 300 }, () => fetch(`${server.origin}${path}`));
		const arrived = () => held.get(path)?.length ?? 0;
		for (let wait = 0; wait < 200 && arrived() < expected; wait++) await sleep(10);
		// a little longer, for any past the limit to show up
		await sleep(50);
		expect(arrived()).toBe(expected);
		// the rest come in as the first are answered
		expect(await answerAll(path, responses)).toHaveLength(300);
	});

	it('lets waiting requests in first come, first served', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxRequestsPerOrigin: 1 });
		const first = fetch(`${server.origin}/held-order`);
		await arrival('/held-order');
		const start = server.requests.length;
		const later = ['a', 'b', 'c', 'd', 'e'].map((name) => fetch(`${server.origin}/order-${name}`));
		await sleep(20);
		// nothing past the limit reached the server
		expect(server.requests.length).toBe(start);
		release('/held-order');
		expect(await (await first).text()).toBe('late /held-order');
		await Promise.all(later.map(async (response) => (await response).text()));
		expect(server.requests.slice(start).map((request) => request.url)).toEqual([
			'/order-a',
			'/order-b',
			'/order-c',
			'/order-d',
			'/order-e',
		]);
	});

	it("sends the OAuth client's own requests in their own line, past the calls waiting: documents under /.well-known/ and form-encoded POSTs", async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxRequestsPerOrigin: 1 });
		const first = fetch(`${server.origin}/held-lane`);
		await arrival('/held-lane');
		// an XRPC call, in JSON, waits its turn; a form PUT is no OAuth endpoint's, and waits too
		const call = fetch(`${server.origin}/xrpc/com.example.create`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: '{}',
		});
		const put = fetch(`${server.origin}/form-put`, {
			method: 'PUT',
			body: new URLSearchParams({ a: '1' }),
		});
		await sleep(20);
		const signal = AbortSignal.timeout(2_000);
		const answers = await Promise.all([
			fetch(`${server.origin}/.well-known/oauth-protected-resource`, { signal }),
			fetch(`${server.origin}/oauth/token`, {
				method: 'POST',
				body: new URLSearchParams({ a: '1' }),
				signal,
			}),
			fetch(`${server.origin}/oauth/revoke`, {
				method: 'POST',
				headers: { 'Content-Type': 'Application/X-WWW-Form-Urlencoded' },
				body: 'token=x',
				signal,
			}),
		]);
		expect(await Promise.all(answers.map((answer) => answer.text()))).toEqual([
			'ok /.well-known/oauth-protected-resource',
			'ok /oauth/token',
			'ok /oauth/revoke',
		]);
		expect(server.requests.some((request) => request.url === '/xrpc/com.example.create')).toBe(false);
		expect(server.requests.some((request) => request.url === '/form-put')).toBe(false);
		release('/held-lane');
		await (await first).text();
		expect(await (await call).text()).toBe('ok /xrpc/com.example.create');
		expect(await (await put).text()).toBe('ok /form-put');
		// the slots they took went back: one request at a time again
		const again = fetch(`${server.origin}/held-lane`);
		await arrival('/held-lane');
		const waiting = fetch(`${server.origin}/after-lane`);
		await sleep(20);
		expect(server.requests.some((request) => request.url === '/after-lane')).toBe(false);
		release('/held-lane');
		await (await again).text();
		expect(await (await waiting).text()).toBe('ok /after-lane');
	});

	it("gives the client's own requests a line of their own, an eighth of the limit", async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxRequestsPerOrigin: 16 });
		const count = (path: string) => held.get(path)?.length ?? 0;
		const urls = () => server.requests.map((request) => request.url);
		const calls = Array.from({ length: 16 }, () => fetch(`${server.origin}/held-calls`));
		const queued = fetch(`${server.origin}/held-calls?queued`);
		const form = { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token' }) };
		const own = Array.from({ length: 5 }, (_, i) => fetch(`${server.origin}/held-own?${i}`, form));
		await arrival('/held-calls', 16);
		await arrival('/held-own', 2);
		await sleep(50);
		// 16 calls, and 2 of the client's own (16 / 8) beside them; the rest wait in their lines
		expect([count('/held-calls'), count('/held-own')]).toEqual([16, 2]);
		// an answer to one of the client's own lets the next of them in, and no call
		held.get('/held-own')!.shift()!();
		await arrival('/held-own', 2);
		await sleep(30);
		expect(urls().filter((url) => url.startsWith('/held-own')).length).toBe(3);
		expect(urls().includes('/held-calls?queued')).toBe(false);
		// an answer to a call lets the call that waited in
		held.get('/held-calls')!.shift()!();
		await arrival('/held-calls', 16);
		expect(urls().includes('/held-calls?queued')).toBe(true);
		expect(urls().filter((url) => url.startsWith('/held-own')).length).toBe(3);
		expect(await answerAll('/held-own', own)).toHaveLength(5);
		expect(await answerAll('/held-calls', [...calls, queued])).toHaveLength(17);
	});

	it('sends a GET again on the slot it holds when its kept-alive connection was dropped, not at the back of the line', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxRequestsPerOrigin: 1 });
		// a connection that has carried one request: the next one on it is dropped
		await (await fetch(`${server.origin}/second-on-its-connection-fails/first`)).text();
		const start = server.requests.length;
		const dropped = fetch(`${server.origin}/second-on-its-connection-fails/again`);
		const waiting = ['a', 'b', 'c'].map((name) => fetch(`${server.origin}/after-drop-${name}`));
		expect(await (await dropped).text()).toBe('ok /second-on-its-connection-fails/again');
		await Promise.all(waiting.map(async (response) => (await response).text()));
		expect(server.requests.slice(start).map((request) => request.url)).toEqual([
			'/second-on-its-connection-fails/again',
			'/second-on-its-connection-fails/again',
			'/after-drop-a',
			'/after-drop-b',
			'/after-drop-c',
		]);
	});

	it('lets a body that takes long to arrive stop counting after a second, and reuses the connections of those that do not', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxRequestsPerOrigin: 3 });
		const before = server.connections;
		let slow = 0;
		// answers of 200 KB, gzip-encoded: each comes in several reads
		const sizes = await Promise.all(
			Array.from({ length: 30 }, async () => {
				const response = await fetch(`${server.origin}/gzip-large`);
				const handedOver = performance.now();
				const size = (await response.arrayBuffer()).byteLength;
				// on a loaded machine a body can take a second too: its slot is then handed on, and the
				// request that takes it may open a connection (a margin for when the timer started)
				if (performance.now() - handedOver > 800) slow++;
				return size;
			}),
		);
		expect(new Set(sizes)).toEqual(new Set([200_000]));
		expect(server.connections - before).toBeGreaterThanOrEqual(3);
		expect(server.connections - before).toBeLessThanOrEqual(3 + slow);
	});

	it('takes a slot again for a GET sent once more after its kept-alive connection was dropped', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxRequestsPerOrigin: 2 });
		const long = fetch(`${server.origin}/held-retry`);
		await arrival('/held-retry');
		// the second request on this connection is dropped, and sent again on a new one
		await (await fetch(`${server.origin}/second-on-its-connection-fails/a`)).text();
		expect(await (await fetch(`${server.origin}/second-on-its-connection-fails/b`)).text()).toBe(
			'ok /second-on-its-connection-fails/b',
		);
		await sleep(20);
		const start = held.get('/held-retry')!.length;
		const more = [0, 1, 2].map(() => fetch(`${server.origin}/held-retry`));
		const arrived = () => held.get('/held-retry')!.length - start;
		for (let wait = 0; wait < 200 && arrived() < 1; wait++) await sleep(10);
		// a little longer, for any past the limit to show up
		await sleep(50);
		// the long request and one more: the retry gave back the one slot it held
		expect(arrived()).toBe(1);
		expect(await answerAll('/held-retry', [long, ...more])).toHaveLength(4);
	});

	it('counts each origin apart', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxRequestsPerOrigin: 1 });
		const first = fetch(`${server.origin}/held-origin`);
		await arrival('/held-origin');
		const signal = AbortSignal.timeout(2_000);
		expect(await (await fetch(`${other.origin}/`, { signal })).text()).toBe('other');
		release('/held-origin');
		await (await first).text();
	});

	it('ends a wait when its signal aborts: the request is never sent, and holds no slot', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxRequestsPerOrigin: 1 });
		const first = fetch(`${server.origin}/held-abort`);
		await arrival('/held-abort');
		const controller = new AbortController();
		const waiting = fetch(`${server.origin}/never-sent`, { signal: controller.signal });
		const reason = new Error('gone');
		controller.abort(reason);
		await expect(waiting).rejects.toBe(reason);
		// an aborted signal given to a request that would wait
		await expect(fetch(`${server.origin}/never-sent`, { signal: AbortSignal.abort(reason) })).rejects.toBe(
			reason,
		);
		release('/held-abort');
		await (await first).text();
		const signal = AbortSignal.timeout(2_000);
		expect(await (await fetch(`${server.origin}/after-abort`, { signal })).text()).toBe('ok /after-abort');
		expect(server.requests.some((request) => request.url === '/never-sent')).toBe(false);
	});

	it('fails a wait that gets no turn within inactivityTimeout, naming the origin and the limit', async () => {
		const fetch = createNodeFetch({
			allowPrivateNetwork: true,
			maxRequestsPerOrigin: 1,
			inactivityTimeout: 300,
		});
		// never silent, so never timed out itself: the slot is held for as long as no answer comes
		const controller = new AbortController();
		const unanswered = fetch(`${server.origin}/processing`, { signal: controller.signal });
		await sleep(20);
		const started = performance.now();
		const error = await fetch(`${server.origin}/starved`).then(
			() => undefined,
			(failure: unknown) => failure,
		);
		expect(error).toBeInstanceOf(TypeError);
		expect(((error as Error).cause as Error).message).toBe(
			`waited 300 ms for its turn at http://${new URL(server.origin).host} (maxRequestsPerOrigin: 1)`,
		);
		expect(performance.now() - started).toBeGreaterThanOrEqual(290);
		controller.abort();
		await expect(unanswered).rejects.toThrow();
	});

	it('holds back other requests for a second at most for a body read later, slowly or never (a download piped into an upload)', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxRequestsPerOrigin: 2 });
		const signal = AbortSignal.timeout(3_000);
		// two answers whose bodies nobody reads yet: they stop counting after a second
		const first = await fetch(`${server.origin}/big`);
		// the first answer's second runs from its hand-over, not from the second's (which a loaded
		// machine may make 200 ms later)
		const started = performance.now();
		const unread = [first, await fetch(`${server.origin}/big`)];
		expect(await (await fetch(`${server.origin}/meanwhile`, { signal })).text()).toBe('ok /meanwhile');
		expect(performance.now() - started).toBeGreaterThan(800);
		// each download's body sent on as an upload to the same origin, both at once
		const uploads = await Promise.all(
			unread.map((download, i) =>
				fetch(`${server.origin}/upload-${i}`, {
					method: 'POST',
					body: download.body,
					duplex: 'half',
					signal,
				} as RequestInit),
			),
		);
		expect(await Promise.all(uploads.map((upload) => upload.text()))).toEqual([
			'ok /upload-0',
			'ok /upload-1',
		]);
		const uploaded = server.requests.filter((request) => request.url.startsWith('/upload-'));
		expect(uploaded.map((request) => request.body.length)).toEqual([4 * 1024 * 1024, 4 * 1024 * 1024]);
	});

	// with one slot, a request that did not give it back stops every later one: each way a request
	// ends is followed by one that must get through
	describe('gives the slot back however a request ends, answered or not', () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxRequestsPerOrigin: 1 });
		const next = async () => {
			const signal = AbortSignal.timeout(3_000);
			expect(await (await fetch(`${server.origin}/next`, { signal })).text()).toBe('ok /next');
		};

		it('a body read to its end', async () => {
			await (await fetch(`${server.origin}/plain`)).text();
			await next();
		});

		it('a body cancelled unread', async () => {
			await (await fetch(`${server.origin}/big`)).body!.cancel();
			await next();
		});

		it('a gzip body whole at hand-over, kept unread: within a second', async () => {
			const kept = await fetch(`${server.origin}/gzip-chunked`);
			const started = performance.now();
			await next();
			expect(performance.now() - started).toBeLessThan(2_500);
			// and it can still be read (the first 60 KB of a gzip stream: cut short, so it fails to decode)
			await kept.arrayBuffer().catch(() => {});
		});

		it('a body dropped unread', async () => {
			await fetch(`${server.origin}/big`);
			await next();
			// and the connection it held is let go once the body is collected
			for (let round = 0; round < 20; round++) {
				gc();
				await sleep(10);
			}
			await next();
		});

		it('an abort while the answer is awaited, its connection busy with interim answers', async () => {
			const controller = new AbortController();
			const pending = fetch(`${server.origin}/processing`, { signal: controller.signal });
			await sleep(50);
			controller.abort();
			await expect(pending).rejects.toThrow();
			await next();
		});

		it('a connection the server resets', async () => {
			await expect(fetch(`${server.origin}/reset`, { method: 'POST', body: 'x' })).rejects.toThrow(
				'fetch failed',
			);
			await next();
		});

		it('an abort before the answer', async () => {
			const controller = new AbortController();
			const pending = fetch(`${server.origin}/held-aborted`, { signal: controller.signal });
			await sleep(20);
			controller.abort();
			await expect(pending).rejects.toThrow();
			release('/held-aborted');
			await next();
		});

		it('an abort in the tick the request was made, before it had a socket', async () => {
			const before = server.connections;
			for (let i = 0; i < 20; i++) {
				const controller = new AbortController();
				const pending = fetch(`${server.origin}/aborted-at-once`, { signal: controller.signal });
				controller.abort();
				await expect(pending).rejects.toThrow();
			}
			await next();
			// the connections the aborted requests opened were closed, not handed from one to the next
			expect(server.connections - before).toBeLessThanOrEqual(21);
		});

		it('a redirect followed', async () => {
			expect(await (await fetch(`${server.origin}/redirect`)).text()).toBe('ok /plain');
			await next();
		});

		it('a request refused before it was made (a header node:http will not send)', async () => {
			await expect(fetch(`${server.origin}/plain`, { headers: { 'x-bad': 'a\u0100' } })).rejects.toThrow();
			await next();
		});
	});
});
