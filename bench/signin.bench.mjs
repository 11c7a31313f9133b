// the client CPU of a full sign-in by handle (handle → DID → DID document → PDS → protected-
// resource metadata → authorization-server metadata → PAR; then the callback's token request and
// checks, until the session is stored), ours beside upstream @atcute/oauth-node-client 2.0.1 and
// the official @atproto/oauth-client-node 0.3.17 in the same run. upstream refuses plain http, so the test server is served over https on
// 127.0.0.1 (named bench.localhost) with a CA made for this run (openssl CLI), and each client runs in its own process
// with NODE_EXTRA_CA_CERTS. the clients take turns, round after round; each gets the median of its
// rounds. also counts the HTTP requests each client makes per sign-in.
// run: pnpm bench signin (BENCH_SIGNIN_ROUNDS, BENCH_SIGNIN_PER_ROUND, BENCH_SIGNIN_WARMUP to change the length)
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createTestTls } from '@atcute-oauth/test-oauth-server';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_SIGNIN_ROUNDS ?? 10);
const PER_ROUND = Number(process.env.BENCH_SIGNIN_PER_ROUND ?? 20);
// sign-in code runs once per sign-in, so it takes many to reach the JIT's steady state, and the
// clients warm at different speeds (upstream's CPU per sign-in fell from 15-20 ms after 20 to about
// 10 ms after 200 on the machine we measured on): measure them warm
const WARMUP = Number(process.env.BENCH_SIGNIN_WARMUP ?? 200);
// resolved to 127.0.0.1 in every process of the bench by signin-hosts.mjs
const HOST = 'bench.localhost';
const CLIENTS = ['ours', 'upstream', 'ours-guarded-resolvers', 'official'];
const LABELS = {
	ours: 'ours (facade defaults; resolvers on global fetch)',
	upstream: 'upstream 2.0.1 (resolvers on global fetch)',
	'ours-guarded-resolvers': 'ours, README guarded setup (resolvers on createNodeFetch)',
	official: 'official @atproto/oauth-client-node 0.3.17 (resolvers on global fetch)',
};

/** a forked child, with request/answer over IPC; `onAsk` answers the child's own requests. */
const spawn = (file, args, env, onAsk) => {
	const child = fork(join(here, file), args, {
		execArgv: [
			'--import',
			join(here, 'signin-hosts.mjs'),
			// SIGNIN_CPU_PROF=<client> writes a V8 CPU profile of that client's process to the directory
			// SIGNIN_CPU_PROF_DIR (default the working directory)
			...(process.env.SIGNIN_CPU_PROF && args[0] === process.env.SIGNIN_CPU_PROF
				? ['--cpu-prof', `--cpu-prof-dir=${process.env.SIGNIN_CPU_PROF_DIR ?? '.'}`]
				: []),
		],
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		env: { ...process.env, ...env },
	});
	const pending = new Map();
	const events = [];
	let waiter;
	let nextId = 0;
	child.on('message', async (message) => {
		if (message.id !== undefined && message.type !== undefined) {
			// the child asks us
			try {
				child.send({ id: message.id, result: await onAsk(message.type, message.args) });
			} catch (err) {
				child.send({ id: message.id, error: String(err?.stack ?? err) });
			}
			return;
		}
		if (message.id !== undefined && pending.has(message.id)) {
			const { resolve, reject } = pending.get(message.id);
			pending.delete(message.id);
			if (message.error) reject(new Error(message.error));
			else resolve(message.result);
			return;
		}
		events.push(message);
		waiter?.();
	});
	const next = async () => {
		while (events.length === 0) await new Promise((resolve) => (waiter = resolve));
		waiter = undefined;
		const event = events.shift();
		if (event.failed) throw new Error(`${file} ${args[0] ?? ''}: ${event.failed}`);
		return event;
	};
	const call = (type, args_ = {}) =>
		new Promise((resolve, reject) => {
			const id = nextId++;
			pending.set(id, { resolve, reject });
			child.send({ id, type, args: args_ });
		});
	return { child, next, call, send: (message) => child.send(message) };
};

// a CA made for this run, and a certificate for HOST it signed
const tls = await createTestTls([HOST]);
const env = { NODE_EXTRA_CA_CERTS: tls.caPath };
const server = spawn('signin-server.mjs', [tls.certPath, tls.keyPath, HOST], env, () => {
	throw new Error('the server asks nothing');
});
const { ready: urls } = await server.next();
const clients = {};
try {
	for (const kind of CLIENTS) {
		clients[kind] = spawn(
			'signin-client.mjs',
			[kind, JSON.stringify({ ...urls, name: kind, host: HOST })],
			env,
			(type, args) => server.call(type, args),
		);
		await clients[kind].next();
	}
	// the official client also says which algorithm its DPoP proofs use
	let officialDpopAlg;
	const runRound = async (kind, count) => {
		clients[kind].send({ command: 'run', count });
		const { done, dpopAlg } = await clients[kind].next();
		if (dpopAlg) officialDpopAlg = dpopAlg;
		return done;
	};

	// each client's first sign-in: no connection, no cached metadata, no DPoP nonce yet
	await server.call('count');
	const firstRequests = {};
	for (const kind of CLIENTS) {
		await runRound(kind, 1);
		firstRequests[kind] = await server.call('count');
	}
	// warm-up: connections open, caches filled, code optimized
	for (const kind of CLIENTS) await runRound(kind, WARMUP);
	await server.call('count');

	const rounds = Object.fromEntries(CLIENTS.map((kind) => [kind, []]));
	const requests = {};
	for (let round = 0; round < ROUNDS; round++) {
		for (const kind of CLIENTS) {
			const samples = await runRound(kind, PER_ROUND);
			rounds[kind].push(samples.reduce((sum, us) => sum + us, 0) / samples.length);
			if (round === 0) requests[kind] = await server.call('count');
			else await server.call('count');
		}
	}

	const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
	const upstream = median(rounds.upstream);
	console.log(
		`\nclient CPU per sign-in by handle over https (authorize + callback; median of ${ROUNDS} rounds of ${PER_ROUND}, after ${WARMUP} to warm up)`,
	);
	console.table(
		Object.fromEntries(
			CLIENTS.map((kind) => {
				const cpu = median(rounds[kind]);
				return [
					LABELS[kind],
					{
						'cpu per sign-in': `${(cpu / 1000).toFixed(2)} ms`,
						'min round': `${(Math.min(...rounds[kind]) / 1000).toFixed(2)} ms`,
						'max round': `${(Math.max(...rounds[kind]) / 1000).toFixed(2)} ms`,
						'× upstream': (cpu / upstream).toFixed(2),
					},
				];
			}),
		),
	);
	const printCounts = (title, all, per) => {
		console.log(`\n${title} (browser steps left out):`);
		for (const kind of CLIENTS) {
			const counts = all[kind];
			const total = Object.values(counts).reduce((sum, n) => sum + n, 0) / per;
			console.log(`  ${LABELS[kind]}: ${total.toFixed(2)}`);
			for (const [what, n] of Object.entries(counts).sort()) {
				console.log(`    ${(n / per).toFixed(2)}  ${what}`);
			}
		}
	};
	printCounts('HTTP requests of the first sign-in of a new client', firstRequests, 1);
	printCounts('HTTP requests per sign-in, warm (the first measured round)', requests, PER_ROUND);
	// each round beside upstream's round next to it, under the same load: the steadier figure
	const paired = median(rounds.ours.map((cpu, round) => cpu / rounds.upstream[round]));
	console.log(
		`sign-in ratio, ours / upstream: ${(median(rounds.ours) / upstream).toFixed(2)} (medians), ${paired.toFixed(2)} (median of per-round ratios); goal ≤ 0.70`,
	);
	// the same against the official client, round by round
	const official = median(rounds.official);
	for (const kind of ['ours', 'ours-guarded-resolvers', 'upstream']) {
		const pairedOfficial = median(rounds[kind].map((cpu, round) => cpu / rounds.official[round]));
		console.log(
			`sign-in ratio, ${kind} / official: ${(median(rounds[kind]) / official).toFixed(2)} (medians), ${pairedOfficial.toFixed(2)} (median of per-round ratios)`,
		);
	}
	console.log(`the official client's DPoP proofs: ${officialDpopAlg}`);
	const rejections = await server.call('rejections');
	if (rejections.length > 0) {
		console.error(
			`the server refused ${rejections.length} request(s); the figures are not valid:\n${rejections.join('\n')}`,
		);
		process.exitCode = 1;
	}
} finally {
	// asked to exit, not killed: a CPU profile is written at exit
	await Promise.all(
		Object.values(clients).map(
			({ child, send }) =>
				new Promise((resolve) => {
					if (child.exitCode !== null) return resolve();
					child.once('exit', resolve);
					send({ command: 'exit' });
				}),
		),
	);
	await server.call('close').catch(() => {});
	await tls.remove();
}
