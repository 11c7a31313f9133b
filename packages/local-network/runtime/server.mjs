// the local atproto network, run as a child process under Node >= 22: an in-memory PLC directory
// and the reference PDS (@atproto/pds, with its built-in OAuth provider), both on 127.0.0.1 only.
// creates the test accounts, then prints one line `READY {json}` on stdout. stops on SIGTERM,
// SIGINT, SIGHUP or (with LOCAL_NETWORK_STOP_ON_STDIN_END=1) when stdin closes, which is how it follows a
// parent that died; every stop deletes the data directory.
//
// environment:
//   LOCAL_NETWORK_DATA_DIR      where the PDS keeps its SQLite files and blobs (required; deleted on stop)
//   LOCAL_NETWORK_ACCOUNTS      JSON: [{ "handle": "alice.test", "password": "…" }]
//   LOCAL_NETWORK_PDS_PORT, LOCAL_NETWORK_PLC_PORT    fixed ports (default: free ones)
//   LOCAL_NETWORK_TRACE=1       print `REQUEST {json}` for every request the PDS answers, and answer
//                               `SYNC <id>` on stdin with `SYNCED <id>` (the parent's barrier)
//   (with clock-preload.mjs)    `CLOCK <id> <ms>` on stdin sets how far the process's clock runs ahead
//                               of the machine's; answered `CLOCKED <id> <ms>` (`none` without the preload)
//   PDS_*                       any @atproto/pds setting, over the defaults below
import { once } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const HOST = '127.0.0.1';
// from process start: module loading (about 2 s) is most of the startup
const startedAt = performance.timeOrigin;

const dataDir = process.env.LOCAL_NETWORK_DATA_DIR;
if (!dataDir) {
	console.error('LOCAL_NETWORK_DATA_DIR is required');
	process.exit(2);
}
const accountSpecs = JSON.parse(process.env.LOCAL_NETWORK_ACCOUNTS || '[]');
const trace = process.env.LOCAL_NETWORK_TRACE === '1';
// there only when clock-preload.mjs was preloaded (a test asked for a steppable clock)
const clock = globalThis[Symbol.for('@atcute-oauth/local-network:clock')];

const listen = async (server, port) => {
	server.listen(port, HOST);
	await once(server, 'listening');
	return server.address().port;
};

// the servers listen before the apps exist: the PDS's issuer URL names its port, and binding
// first means the port is ours (no probe-then-bind race)
let plcApp;
let pdsApp;
const plcHttp = createServer((req, res) => plcApp(req, res));
const pdsHttp = createServer((req, res) => {
	if (trace) {
		const t0 = performance.now();
		res.once('finish', () => {
			const path = req.url.split('?')[0];
			const ms = Math.round(performance.now() - t0);
			process.stdout.write(
				`REQUEST ${JSON.stringify({ method: req.method, path, status: res.statusCode, ms })}\n`,
			);
		});
	}
	pdsApp(req, res);
});
// the reference PDS's own keep-alive: clients (and the OAuth provider) reuse connections
pdsHttp.keepAliveTimeout = 90_000;

let pds;
let plcServer;
let stopping = false;

const stop = async (code = 0) => {
	if (stopping) return;
	stopping = true;
	try {
		for (const server of [pdsHttp, plcHttp]) {
			server.closeAllConnections();
			server.close();
		}
		await pds?.ctx.destroy();
		await plcServer?.ctx.db.close();
	} catch (error) {
		console.error('stopping:', error);
	} finally {
		rmSync(dataDir, { recursive: true, force: true });
		process.exit(code);
	}
};
// from the very start, before the PDS's modules load (about 2 s): a signal then still deletes the
// data directory. a second signal while stopping (or one before the servers exist) exits at once,
// deleting it too
const onSignal = () => {
	if (!stopping) return stop();
	rmSync(dataDir, { recursive: true, force: true });
	process.exit(1);
};
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, onSignal);

// loaded after the handlers above: static imports would be loaded before any of this file runs
const { Secp256k1Keypair } = await import('@atproto/crypto');
const { envToCfg, envToSecrets, PDS, readEnv } = await import('@atproto/pds');
const plc = await import('@did-plc/server');

try {
	const plcPort = await listen(plcHttp, Number(process.env.LOCAL_NETWORK_PLC_PORT) || 0);
	const pdsPort = await listen(pdsHttp, Number(process.env.LOCAL_NETWORK_PDS_PORT) || 0);
	// `localhost`, not 127.0.0.1: the PDS's dev mode expects it (handles under `.test`, an
	// http issuer), and a browser treats http://localhost as a secure context for the
	// provider's `Secure` cookies
	const plcUrl = `http://localhost:${plcPort}`;

	plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: plcPort });
	plcApp = plcServer.app;

	const rotationKey = await Secp256k1Keypair.create({ exportable: true });
	const env = {
		hostname: 'localhost',
		// dev mode lets the PDS run over http and turns off SSRF protection, so the OAuth provider
		// may fetch client metadata from 127.0.0.1 and custom ports
		devMode: true,
		inviteRequired: false,
		serviceHandleDomains: ['.test'],
		serviceName: 'local atproto network',
		dataDirectory: join(dataDir, 'data'),
		blobstoreDiskLocation: join(dataDir, 'blobs'),
		didPlcUrl: plcUrl,
		jwtSecret: 'local-network-jwt-secret',
		adminPassword: 'local-network-admin-password',
		plcRotationKeyK256PrivateKeyHex: Buffer.from(await rotationKey.export()).toString('hex'),
		// a PDS_* variable from the environment wins over the defaults above
		...Object.fromEntries(Object.entries(readEnv()).filter(([, value]) => value !== undefined)),
		port: pdsPort,
	};
	mkdirSync(env.dataDirectory, { recursive: true });
	mkdirSync(env.blobstoreDiskLocation, { recursive: true });

	pds = await PDS.create(envToCfg(env), envToSecrets(env));
	await pds.ctx.sequencer.start();
	pdsApp = pds.app;
	const pdsUrl = pds.ctx.cfg.service.publicUrl;

	const accounts = [];
	for (const { handle, password } of accountSpecs) {
		const response = await fetch(`${pdsUrl}/xrpc/com.atproto.server.createAccount`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ handle, password, email: `${handle.split('.')[0]}@example.com` }),
		});
		const body = await response.json();
		if (!response.ok) throw new Error(`createAccount ${handle}: ${response.status} ${JSON.stringify(body)}`);
		accounts.push({ handle: body.handle, did: body.did, password });
	}

	if (trace || clock !== undefined || process.env.LOCAL_NETWORK_STOP_ON_STDIN_END === '1') {
		const lines = createInterface({ input: process.stdin });
		lines.on('line', (line) => {
			// every REQUEST line of a response written before this point is already in the pipe
			if (line.startsWith('SYNC ')) process.stdout.write(`SYNCED ${line.slice(5)}\n`);
			else if (line.startsWith('CLOCK ')) {
				const [, id, ms] = line.split(' ');
				// set before the answer: every request the parent sends after it sees the new time
				clock?.setOffset(Number(ms));
				process.stdout.write(`CLOCKED ${id} ${clock?.offset ?? 'none'}\n`);
			}
		});
		if (process.env.LOCAL_NETWORK_STOP_ON_STDIN_END === '1') lines.once('close', () => stop());
	}

	const ready = {
		pid: process.pid,
		node: process.version,
		pdsUrl,
		issuer: pds.ctx.cfg.oauth.issuer,
		plcUrl,
		accounts,
		startupMs: Math.round(Date.now() - startedAt),
	};
	process.stdout.write(`READY ${JSON.stringify(ready)}\n`);
} catch (error) {
	console.error(error);
	await stop(1);
}
