// large bodies through a DPoP-authenticated call: the Node transport (createNodeFetch) against
// Node's global fetch, each under createDpopFetch as a session sends, to a loopback PDS in a child
// process that checks each proof (htm, htu, ath, nonce) and asks for a nonce first when the client
// has none. each case runs in a child of its own with --expose-gc: peak RSS growth over the
// baseline (the kernel's high-water mark, `resourceUsage().maxRSS`, less the RSS before the call,
// the body allocated already), the V8 heap's peak, the longest event-loop delay and the loop's
// utilisation, and the outcome (bytes the server got, bytes read back). ratios are node / fetch.
// run: pnpm bench big-bodies (BIG_BODIES_MB, default 100; the downloads are twice that)
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.BIG_BODIES_MB ?? 100);

if (process.argv[2] === '--server') {
	const http = await import('node:http');
	const { createHash } = await import('node:crypto');
	const { gzipSync } = await import('node:zlib');
	const { jwtVerify, EmbeddedJWK } = await import('jose');
	const NONCE = 'server-nonce-1';
	const chunk = Buffer.alloc(64 * 1024, 7);
	// 2 GB of zeros gzip to about 2 MB: a bomb for whoever decodes it ahead of its reader
	const bomb = gzipSync(Buffer.alloc(256 * MB), { level: 9 });
	const refuse = (res, error, description) =>
		res
			.writeHead(401, {
				'www-authenticate': `DPoP error="${error}", error_description="${description}"`,
				'dpop-nonce': NONCE,
				'content-type': 'application/json',
			})
			.end(JSON.stringify({ error, message: description }));
	const check = async (req, url) => {
		const token = /^DPoP (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
		if (token === undefined) return 'no token';
		const { payload } = await jwtVerify(req.headers.dpop, EmbeddedJWK, { typ: 'dpop+jwt' });
		const ath = createHash('sha256').update(token).digest('base64url');
		if (payload.htm !== req.method || payload.htu !== `http://${req.headers.host}${url.pathname}`)
			return 'htu';
		if (payload.ath !== ath) return 'ath';
		if (payload.nonce !== NONCE) return 'nonce';
		return undefined;
	};
	const server = http.createServer(async (req, res) => {
		const url = new URL(req.url, 'http://x');
		let problem;
		try {
			problem = await check(req, url);
		} catch (error) {
			problem = String(error);
		}
		if (problem === 'nonce') return refuse(res, 'use_dpop_nonce', 'nonce');
		if (problem !== undefined) return refuse(res, 'invalid_dpop_proof', problem);
		if (url.pathname === '/xrpc/com.atproto.repo.uploadBlob') {
			let length = 0;
			req.on('data', (c) => (length += c.length));
			req.on('end', () => res.writeHead(200, { 'dpop-nonce': NONCE }).end(JSON.stringify({ length })));
			return;
		}
		const size = Number(url.searchParams.get('mb')) * MB;
		if (url.pathname === '/xrpc/com.atproto.sync.getBlob') {
			if (url.searchParams.get('gzip') === '1') {
				res.writeHead(200, {
					'dpop-nonce': NONCE,
					'content-encoding': 'gzip',
					'content-length': bomb.length,
				});
				res.end(bomb);
				return;
			}
			res.writeHead(200, { 'dpop-nonce': NONCE, 'content-length': size });
			let sent = 0;
			const write = () => {
				while (sent < size) {
					sent += chunk.length;
					if (!res.write(chunk)) return res.once('drain', write);
				}
				res.end();
			};
			write();
			return;
		}
		res.writeHead(404).end();
	});
	server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
	process.on('message', (m) => m === 'stop' && process.exit(0));
} else if (process.argv[2] === '--case') {
	const [, , , transport, kind, origin, file] = process.argv;
	const v8 = await import('node:v8');
	const { monitorEventLoopDelay, performance } = await import('node:perf_hooks');
	const { openAsBlob } = await import('node:fs');
	const { createNodeFetch } = await import('@atcute/oauth-node-client');
	const { createDpopFetch, generateDpopKey, MemoryDpopNonceCache } = await import('@atcute/oauth-dpop');
	const key = await generateDpopKey(['ES256']);
	const nonces = new MemoryDpopNonceCache();
	// a warm session knows the PDS's nonce; a cold one is refused once (401 use_dpop_nonce)
	if (!kind.endsWith('-cold')) nonces.set(origin, 'server-nonce-1');
	const send = transport === 'node' ? createNodeFetch({ allowPrivateNetwork: true }) : globalThis.fetch;
	const fetch = createDpopFetch({ key, nonces, fetch: send });
	const headers = { authorization: `DPoP ${'t'.repeat(600)}` };
	const size = SIZE_MB * MB;
	let body;
	if (kind.startsWith('up-bytes')) body = randomBytes(size);
	else if (kind.startsWith('up-blob')) body = await openAsBlob(file);
	else if (kind.startsWith('up-stream')) {
		let made = 0;
		body = new ReadableStream({
			pull(controller) {
				if (made >= size) return controller.close();
				made += 64 * 1024;
				controller.enqueue(new Uint8Array(64 * 1024));
			},
		});
	}
	globalThis.gc();
	globalThis.gc();
	const baseline = process.memoryUsage().rss;
	const eld = monitorEventLoopDelay({ resolution: 5 });
	eld.enable();
	const elu0 = performance.eventLoopUtilization();
	let heapPeak = 0;
	const sampler = setInterval(() => {
		heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
	}, 5);
	const outcome = {};
	try {
		if (kind.startsWith('up-')) {
			const init = { method: 'POST', headers: { ...headers, 'content-type': 'video/mp4' }, body };
			if (kind.startsWith('up-stream')) init.duplex = 'half';
			const response = await fetch(`${origin}/xrpc/com.atproto.repo.uploadBlob`, init);
			outcome.status = response.status;
			outcome.answer = await response.text();
		} else {
			const gzip = kind.startsWith('down-gzip');
			const response = await fetch(
				`${origin}/xrpc/com.atproto.sync.getBlob?mb=${SIZE_MB * 2}${gzip ? '&gzip=1' : ''}`,
				{ headers },
			);
			outcome.status = response.status;
			const reader = response.body.getReader();
			let read = 0;
			let chunks = 0;
			for (;;) {
				const { done, value } = await reader.read();
				if (done) break;
				read += value.length;
				// a slow consumer: a pause every 16 chunks, so the socket runs ahead if nothing holds it
				if (++chunks % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
				if (kind.startsWith('down-cancel') && read >= 4 * MB) {
					await reader.cancel();
					break;
				}
			}
			outcome.read = read;
		}
	} catch (error) {
		outcome.error = `${error.name}: ${error.message} (${error.cause?.message ?? ''})`;
	}
	clearInterval(sampler);
	eld.disable();
	const elu = performance.eventLoopUtilization(elu0);
	process.send({
		outcome,
		rssGrowthMB: (process.resourceUsage().maxRSS * 1024 - baseline) / MB,
		heapPeakMB: heapPeak / MB,
		mallocPeakMB: v8.getHeapStatistics().peak_malloced_memory / MB,
		maxDelayMs: eld.max / 1e6,
		elu: elu.utilization,
	});
	process.exit(0);
} else {
	const server = fork(here, ['--server'], { stdio: 'inherit' });
	const { port } = await new Promise((resolve) => server.once('message', resolve));
	const origin = `http://127.0.0.1:${port}`;
	const file = join(tmpdir(), `big-bodies-${process.pid}.bin`);
	writeFileSync(file, randomBytes(SIZE_MB * MB));
	const runCase = (transport, kind) =>
		new Promise((resolve, reject) => {
			const child = fork(here, ['--case', transport, kind, origin, file], {
				execArgv: ['--expose-gc'],
				stdio: 'inherit',
			});
			child.once('message', resolve);
			child.once('exit', (code) => code !== 0 && reject(new Error(`${kind} ${transport} exited ${code}`)));
		});
	const kinds = (
		process.env.BIG_BODIES_CASES ??
		'up-bytes,up-bytes-cold,up-blob,up-blob-cold,up-stream,up-stream-cold,down,down-gzip,down-cancel'
	).split(',');
	const fmt = (n) => n.toFixed(1).padStart(7);
	console.log(`body ${SIZE_MB} MB (downloads ${SIZE_MB * 2} MB); figures: node | fetch | node/fetch`);
	for (const kind of kinds) {
		const node = await runCase('node', kind);
		const fetch = await runCase('fetch', kind);
		const row = (name, a, b) => `${name} ${fmt(a)} ${fmt(b)} ${(a / b).toFixed(2).padStart(6)}`;
		console.log(`\n${kind}`);
		console.log(`  outcome node  ${JSON.stringify(node.outcome)}`);
		console.log(`  outcome fetch ${JSON.stringify(fetch.outcome)}`);
		console.log(`  ${row('peak RSS growth MB', node.rssGrowthMB, fetch.rssGrowthMB)}`);
		console.log(`  ${row('heap peak MB      ', node.heapPeakMB, fetch.heapPeakMB)}`);
		console.log(`  ${row('max loop delay ms ', node.maxDelayMs, fetch.maxDelayMs)}`);
		console.log(`  ${row('loop utilisation  ', node.elu, fetch.elu)}`);
	}
	rmSync(file, { force: true });
	server.send('stop');
}
