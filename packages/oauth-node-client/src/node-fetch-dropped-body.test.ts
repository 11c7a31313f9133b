import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Agent, ClientRequest } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

// a full collection on demand: the flag makes V8 define gc() in contexts made after it is set
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

// a transport of its own for each test, whose agents are the ones seen since it began: a
// connection an earlier test left in use is not counted against the next
let local: ReturnType<typeof createNodeFetch>;
// the agents the transport sends through, to see which of their connections are still in use
const agents = new Set<Agent>();
const onRequest = (message: unknown) => {
	const { agent } = (message as { request: ClientRequest & { agent?: Agent } }).request;
	if (agent) agents.add(agent);
};
const count = (pick: (agent: Agent) => NodeJS.ReadOnlyDict<unknown[]>) => {
	let sockets = 0;
	for (const agent of agents) for (const list of Object.values(pick(agent))) sockets += list?.length ?? 0;
	return sockets;
};
/** the connections in use, and those kept in the pool. */
const busy = () => count((agent) => agent.sockets);
const pooled = () => count((agent) => agent.freeSockets);

/** collects garbage, a round at a time, until `done` holds; false if it still does not after 50. */
const collectUntil = async (done: () => boolean) => {
	for (let round = 0; round < 50; round++) {
		if (done()) return true;
		gc();
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
	return done();
};

// a gzip body that does not shrink, so that it comes in many reads
const incompressible = gzipSync(randomBytes(40_000));

// each test waits on garbage collections (1-3 s here); a loaded machine has taken more than the
// default 5 s
describe('createNodeFetch: the connection of a body dropped unread', { timeout: 30_000 }, () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		subscribe('http.client.request.start', onRequest);
		server = await startHttpServer((request, response) => {
			if (request.url === '/late') {
				// the headers and the first bytes now, the end of the body a little later: the
				// Response is handed over while its body still streams
				response.writeHead(200, { 'content-type': 'text/plain' });
				response.write('first,');
				setTimeout(() => response.end('rest'), 10);
			} else if (request.url === '/late-gzip') {
				response.writeHead(200, { 'content-encoding': 'gzip', 'content-length': incompressible.length });
				response.write(incompressible.subarray(0, 1000));
				setTimeout(() => response.end(incompressible.subarray(1000)), 10);
			} else if (request.url === '/cut') {
				// a body the server breaks off after its first bytes
				response.writeHead(200, { 'content-length': 100 });
				response.write('first,');
				setTimeout(() => response.socket?.destroy(), 10);
			} else {
				// far more than is worth draining
				response.writeHead(200, { 'content-length': 4 * 1024 * 1024 }).end(Buffer.alloc(4 * 1024 * 1024));
			}
		});
	});
	beforeEach(() => {
		local = createNodeFetch({ allowPrivateNetwork: true });
		agents.clear();
	});
	afterAll(async () => {
		unsubscribe('http.client.request.start', onRequest);
		await server.close();
	});

	/** sends a request, reads `chunks` chunks of its body (if any), and lets go of the response. */
	const drop = async (path: string, chunks = 0) => {
		const response = await local(`${server.origin}${path}`);
		// as an app that only wanted to know whether it worked
		if (!response.ok) throw new Error('x');
		if (chunks === 0) return;
		const reader = response.body!.getReader();
		for (let i = 0; i < chunks; i++) await reader.read();
	};

	it.each([
		['unread', '/late', 0],
		['read in part', '/late', 1],
		['unread, compressed', '/late-gzip', 0],
	])('puts the connection back in the pool once the response is collected (%s)', async (_, path, chunks) => {
		const before = server.connections;
		for (let i = 0; i < 20; i++) {
			await drop(path, chunks);
			expect(await collectUntil(() => busy() === 0)).toBe(true);
		}
		// all 20 went over one connection
		expect(server.connections - before).toBe(1);
	});

	it('closes the connection of a body too long to drain once the response is collected', async () => {
		await drop('/long');

		// neither in use nor in the pool: closed
		expect(await collectUntil(() => busy() === 0 && pooled() === 0)).toBe(true);
	});

	it.each([
		['read to its end', '/late'],
		['read to its end, compressed', '/late-gzip'],
		['broken off mid-body', '/cut'],
	])('lets a streamed body be collected once it is done with (%s)', async (_, path) => {
		// a body that is over must not stay reachable from the transport's own bookkeeping: each
		// kept its request, response, socket and stream (10-19 KB) for as long as the process ran
		// counted by a registry, not a WeakRef: deref() would keep its target alive through the
		// gc() that follows it in the same turn
		let collected = 0;
		const registry = new FinalizationRegistry(() => collected++);
		// in a function of its own: a suspended async function can keep its locals' last values
		const readOnce = async () => {
			const response = await local(`${server.origin}${path}`);
			registry.register(response.body!, undefined);
			await response.arrayBuffer().catch(() => {});
		};
		for (let i = 0; i < 5; i++) await readOnce();
		expect(await collectUntil(() => collected === 5)).toBe(true);
	});

	it('never lets go of a body that is still being read, however the response is held', async () => {
		// a reader whose response was dropped at once, waiting on a read while garbage is collected
		const reading = (async () => {
			const reader = (await local(`${server.origin}/late`)).body!.getReader();
			let text = '';
			for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
				text += Buffer.from(chunk.value).toString();
				for (let round = 0; round < 3; round++) {
					gc();
					await new Promise((resolve) => setTimeout(resolve, 10));
				}
			}
			return text;
		})();
		const kept = await local(`${server.origin}/late-gzip`);
		for (let round = 0; round < 5; round++) {
			gc();
			await new Promise((resolve) => setTimeout(resolve, 10));
		}

		expect(await reading).toBe('first,rest');
		expect(Buffer.from(await kept.arrayBuffer()).length).toBe(40_000);
	});
});
