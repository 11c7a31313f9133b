// a burst of concurrent calls over TLS from a process that has no connection yet: what a job
// fanning out to one PDS does on its first run. each subject runs in a fresh child process (its own
// pools), against an https server in another (whose handshakes are not counted); 50 ms into the
// burst, one more GET (a call made meanwhile) and a form-encoded POST (as a sign-out's revocation is
// sent). reports wall time, client CPU a call, the longest event-loop stall, the latency of those
// two, failures, and the connections the server saw (all, and the most open at once).
// run: pnpm bench fan-out
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const SIZES = (process.env.BENCH_BURST_SIZES ?? '2500,10000').split(',').map(Number);

if (process.argv[2] === '--server') {
	const https = await import('node:https');
	const { readFileSync } = await import('node:fs');
	const [certPath, keyPath] = process.argv.slice(3);
	let connections = 0;
	let open = 0;
	let most = 0;
	const server = https.createServer(
		{ cert: readFileSync(certPath), key: readFileSync(keyPath), keepAliveTimeout: 5000 },
		(_request, response) =>
			response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
	);
	server.on('secureConnection', (socket) => {
		connections++;
		most = Math.max(most, ++open);
		socket.once('close', () => open--);
	});
	process.on('disconnect', () => process.exit(0));
	process.on('message', async () => {
		const seen = { connections, most };
		// the next subject starts once the last one's connections are gone
		while (open > 0) await new Promise((resolve) => setTimeout(resolve, 10));
		connections = 0;
		most = 0;
		process.send(seen);
	});
	server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else if (process.argv[2] === '--client') {
	const { monitorEventLoopDelay } = await import('node:perf_hooks');
	const { createNodeFetch } = await import('@atcute/oauth-node-client');
	const [subject, url, size] = [process.argv[3], process.argv[4], Number(process.argv[5])];
	const fetch =
		subject === 'global fetch'
			? globalThis.fetch
			: createNodeFetch({
					allowPrivateNetwork: true,
					maxRequestsPerOrigin: subject.includes('no limit') ? Number.POSITIVE_INFINITY : undefined,
				});
	const delay = monitorEventLoopDelay({ resolution: 5 });
	delay.enable();
	let failed = 0;
	const meanwhile = async (init) => {
		await new Promise((resolve) => setTimeout(resolve, 50));
		const start = performance.now();
		try {
			await (await fetch(url, { ...init, signal: AbortSignal.timeout(5000) })).text();
			return performance.now() - start;
		} catch {
			return null;
		}
	};
	const call = meanwhile({});
	const revocation = meanwhile({ method: 'POST', body: new URLSearchParams({ token: 'x' }) });
	const cpu = process.cpuUsage();
	const start = performance.now();
	await Promise.all(
		Array.from({ length: size }, async () => {
			try {
				await (await fetch(url)).json();
			} catch {
				failed++;
			}
		}),
	);
	const wall = performance.now() - start;
	const used = process.cpuUsage(cpu);
	delay.disable();
	process.send({
		wall,
		cpuPerCall: (used.user + used.system) / size,
		stall: delay.max / 1e6,
		failed,
		call: await call,
		revocation: await revocation,
	});
} else {
	const { createTestTls } = await import('@atcute-oauth/test-oauth-server');
	const tls = await createTestTls();
	const server = fork(here, ['--server', tls.certPath, tls.keyPath]);
	const port = await new Promise((resolve) => server.once('message', resolve));
	const url = `https://localhost:${port}/xrpc/com.atproto.server.getSession`;
	const subjects = ['global fetch', 'createNodeFetch, no limit', 'createNodeFetch (default: 256 an origin)'];
	try {
		for (const size of SIZES) {
			console.log(`\n${size} concurrent calls over TLS, from a fresh process`);
			for (const subject of subjects) {
				const client = fork(here, ['--client', subject, url, String(size)], {
					env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caPath },
				});
				const result = await new Promise((resolve) => client.once('message', resolve));
				client.kill();
				server.send('stats');
				const seen = await new Promise((resolve) => server.once('message', resolve));
				const latency = (ms) => (ms === null ? 'failed (5 s)' : `${ms.toFixed(0)} ms`);
				console.log(
					`  ${subject.padEnd(42)} ${result.wall.toFixed(0).padStart(6)} ms wall  ${(result.cpuPerCall / 1000).toFixed(3)} ms CPU a call  stall ${result.stall.toFixed(0).padStart(5)} ms  meanwhile: a call ${latency(result.call).padStart(12)}, a revocation ${latency(result.revocation).padStart(12)}  failed ${String(result.failed).padStart(4)}  connections ${seen.connections} (${seen.most} at once)`,
				);
			}
		}
	} finally {
		server.kill();
		await tls.remove();
	}
}
