import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

// a full collection on demand: the flag makes V8 define gc() in contexts made after it is set
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** the server's answers held back, by path, until the test lets them go. */
const held = new Map<string, (() => void)[]>();
const release = (path: string) => {
	for (const answer of held.get(path) ?? []) answer();
	held.delete(path);
};

describe('createNodeFetch: maxConnectionsPerOrigin', () => {
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
			} else if (path === '/trickle') {
				// a body that keeps coming, so the connection is never silent, and never ends
				response.writeHead(200);
				const timer = setInterval(() => response.write('.'), 20);
				response.once('close', () => clearInterval(timer));
			} else if (path === '/big') {
				response.end(Buffer.alloc(4 * 1024 * 1024));
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
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxConnectionsPerOrigin: 3 });
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
	])('lets in at once %s', async (_, maxConnectionsPerOrigin, expected) => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxConnectionsPerOrigin });
		const path = `/held-${expected}`;
		const responses = Array.from({ length: 300 }, () => fetch(`${server.origin}${path}`));
		const arrived = () => held.get(path)?.length ?? 0;
		for (let wait = 0; wait < 200 && arrived() < expected; wait++) await sleep(10);
		// a little longer, for any past the limit to show up
		await sleep(50);
		expect(arrived()).toBe(expected);
		// the rest come in as the first are answered
		let finished = false;
		const all = Promise.all(responses.map(async (response) => (await response).text())).finally(
			() => (finished = true),
		);
		while (!finished) {
			release(path);
			await sleep(10);
		}
		expect(await all).toHaveLength(300);
	});

	it('lets waiting requests in first come, first served', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxConnectionsPerOrigin: 1 });
		const first = fetch(`${server.origin}/held-order`);
		await sleep(20);
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

	it("never queues the OAuth client's own requests: documents under /.well-known/ and form-encoded POSTs", async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxConnectionsPerOrigin: 1 });
		const first = fetch(`${server.origin}/held-lane`);
		await sleep(20);
		const signal = AbortSignal.timeout(2_000);
		const form = { 'content-type': 'application/x-www-form-urlencoded' };
		const answers = await Promise.all([
			fetch(`${server.origin}/.well-known/oauth-protected-resource`, { signal }),
			fetch(`${server.origin}/oauth/token`, {
				method: 'POST',
				body: new URLSearchParams({ a: '1' }),
				signal,
			}),
			fetch(`${server.origin}/oauth/revoke`, { method: 'POST', headers: form, body: 'token=x', signal }),
		]);
		expect(await Promise.all(answers.map((answer) => answer.text()))).toEqual([
			'ok /.well-known/oauth-protected-resource',
			'ok /oauth/token',
			'ok /oauth/revoke',
		]);
		// an XRPC call, in JSON, waits its turn
		const call = fetch(`${server.origin}/xrpc/com.example.create`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: '{}',
		});
		await sleep(30);
		expect(server.requests.some((request) => request.url === '/xrpc/com.example.create')).toBe(false);
		release('/held-lane');
		await (await first).text();
		expect(await (await call).text()).toBe('ok /xrpc/com.example.create');
		// the slots the unqueued requests took went back: one request at a time again
		const again = fetch(`${server.origin}/held-lane`);
		await sleep(20);
		const waiting = fetch(`${server.origin}/after-lane`);
		await sleep(20);
		expect(server.requests.some((request) => request.url === '/after-lane')).toBe(false);
		release('/held-lane');
		await (await again).text();
		expect(await (await waiting).text()).toBe('ok /after-lane');
	});

	it('counts each origin apart', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxConnectionsPerOrigin: 1 });
		const first = fetch(`${server.origin}/held-origin`);
		await sleep(20);
		const signal = AbortSignal.timeout(2_000);
		expect(await (await fetch(`${other.origin}/`, { signal })).text()).toBe('other');
		release('/held-origin');
		await (await first).text();
	});

	it('ends a wait when its signal aborts: the request is never sent, and holds no slot', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxConnectionsPerOrigin: 1 });
		const first = fetch(`${server.origin}/held-abort`);
		await sleep(20);
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

	it('fails a wait that finds no free connection within inactivityTimeout, naming the origin', async () => {
		const fetch = createNodeFetch({
			allowPrivateNetwork: true,
			maxConnectionsPerOrigin: 1,
			inactivityTimeout: 300,
		});
		// never silent, so never timed out itself: the slot is held for as long as the body is read
		const trickling = await fetch(`${server.origin}/trickle`);
		const reader = trickling.body!.getReader();
		let reading = true;
		const readAll = (async () => {
			while (reading && !(await reader.read()).done);
		})();
		const started = performance.now();
		const error = await fetch(`${server.origin}/starved`).then(
			() => undefined,
			(failure: unknown) => failure,
		);
		expect(error).toBeInstanceOf(TypeError);
		expect(((error as Error).cause as Error).message).toBe(
			`waited 300 ms for a connection to http://${new URL(server.origin).host} (maxConnectionsPerOrigin: 1)`,
		);
		expect(performance.now() - started).toBeGreaterThanOrEqual(290);
		reading = false;
		await reader.cancel();
		await readAll.catch(() => {});
	});

	// with one slot, a request that did not give it back stops every later one: each way a request
	// ends is followed by one that must get through
	describe('gives the slot back however a request ends', () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, maxConnectionsPerOrigin: 1 });
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

		it('a body dropped unread, once collected', async () => {
			await fetch(`${server.origin}/big`);
			// the next request waits until the dropped one is collected and its connection let go
			const waiting = next();
			for (let round = 0; round < 50; round++) {
				gc();
				await sleep(10);
			}
			await waiting;
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
