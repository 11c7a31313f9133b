// the Node transport alone against Node's global fetch, like for like: the same GET with the
// headers of a DPoP call (a 600-byte token, a 700-byte proof), keep-alive, a small JSON answer read
// with json(), from a server in a child process that answers at once or after 1.5 ms of work (as
// the test PDS spends verifying a proof), and a 5 KB JSON answer gzipped for whoever asks (both
// transports ask by default; the Node transport again with `Accept-Encoding: identity`). client
// CPU per call, medians of interleaved rounds after an interleaved warm-up of 3000 calls each
// (BENCH_WARMUP_CALLS).
// run: pnpm bench transport
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { createNodeFetch } from '@atcute/oauth-node-client';

const here = fileURLToPath(import.meta.url);

if (process.argv[2] === '--transport-child') {
	const http = await import('node:http');
	const { gzipSync } = await import('node:zlib');
	const delayMs = Number(process.argv[3]);
	const large = process.argv[4] === 'large';
	const answer = { did: 'did:plc:abcdefghijklmnopqrstuvwx', handle: 'alice.test', active: true };
	// a page of records, for the compressed case: about 5 KB, as a small listRecords
	const records = Array.from({ length: 40 }, (_, i) => ({
		uri: `at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3kabc${i}`,
		value: { text: `post number ${i}`, createdAt: new Date(0).toISOString() },
	}));
	const body = JSON.stringify(large ? { ...answer, records } : answer);
	const gzipped = gzipSync(body);
	const server = http.createServer({ keepAliveTimeout: 5000 }, (request, response) => {
		// busy, as a server verifying a signature is, rather than idle on a timer
		const end = performance.now() + delayMs;
		while (performance.now() < end);
		if (large && request.headers['accept-encoding']?.includes('gzip')) {
			response
				.writeHead(200, { 'content-type': 'application/json', 'dpop-nonce': 'n', 'content-encoding': 'gzip' })
				.end(gzipped);
			return;
		}
		response.writeHead(200, { 'content-type': 'application/json', 'dpop-nonce': 'n' }).end(body);
	});
	process.on('disconnect', () => process.exit(0));
	server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
	const ROUNDS = 12;
	const PER_ROUND = 300;
	const WARMUP_CALLS = Number(process.env.BENCH_WARMUP_CALLS ?? 3000);
	const headers = { authorization: `DPoP ${'x'.repeat(600)}`, dpop: 'y'.repeat(700) };
	const transport = createNodeFetch({ allowPrivateNetwork: true });
	const identity = { ...headers, 'accept-encoding': 'identity' };
	const plainTransport = (url, init) => transport(url, { ...init, headers: identity });
	for (const [delayMs, size] of [
		[0, 'small'],
		[1.5, 'small'],
		[0, 'large'],
	]) {
		const subjects = { 'global fetch': globalThis.fetch, 'createNodeFetch (the facade default)': transport };
		if (size === 'large') subjects['createNodeFetch, Accept-Encoding: identity'] = plainTransport;
		const child = fork(here, ['--transport-child', String(delayMs), size]);
		const port = await new Promise((resolve) => child.once('message', resolve));
		const url = `http://127.0.0.1:${port}/xrpc/com.atproto.server.getSession`;
		const call = async (fetch) => (await fetch(url, { headers })).json();
		const samples = Object.fromEntries(Object.keys(subjects).map((name) => [name, []]));
		// not counted: V8 takes a few thousand calls to settle on a path, each subject at its own
		// pace, so both warm up in the same interleaved turns before any round is measured
		for (let done = 0; done < WARMUP_CALLS; done += PER_ROUND) {
			for (const fetch of Object.values(subjects)) for (let i = 0; i < PER_ROUND; i++) await call(fetch);
		}
		for (let round = 0; round < ROUNDS; round++) {
			for (const [name, fetch] of Object.entries(subjects)) {
				const start = process.cpuUsage();
				for (let i = 0; i < PER_ROUND; i++) await call(fetch);
				const used = process.cpuUsage(start);
				samples[name].push((used.user + used.system) / PER_ROUND);
			}
		}
		const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
		const base = median(samples['global fetch']);
		for (const [name, values] of Object.entries(samples)) {
			const cpu = median(values);
			console.log(
				`server answers ${size === 'large' ? 'a 5 KB page, gzipped when asked, ' : ''}after ${delayMs} ms, ${name}: ${cpu.toFixed(1)} µs CPU per call, ${(cpu / base).toFixed(2)}× fetch`,
			);
		}
		child.disconnect();
	}
}
