// a new process's first burst: a client that has not talked to the PDS yet (its DPoP nonce
// unknown) restores a session another process signed in, and sends N calls at once, to the test
// server as it is (on loopback, it answers in well under a millisecond) and as if it were 20 ms
// away (each request held 20 ms before it is sent: the first answer then comes after every call's
// proof is signed). counts what the PDS refused for want of a nonce, and the wall and client CPU
// time. the test server runs in a child process, so only the client's work is counted.
// run: pnpm bench cold-burst
import { Client } from '@atcute/client';
import { LocalActorResolver, PlcDidDocumentResolver, XrpcHandleResolver } from '@atcute/identity-resolver';
import { createNodeFetch, generatePrivateKey, MemoryStore, OAuthClient } from '@atcute/oauth-node-client';

import { startServerProcess } from './lib/server-process.mjs';

const BURSTS = [500, 2000];
const LATENCIES_MS = [0, 20];

const server = await startServerProcess();
const sessions = new MemoryStore();
const keyset = [await generatePrivateKey('main')];
/** a client as a new process has it: its own nonce cache and pools, the shared session store. */
const newClient = (latencyMs = 0) => {
	const transport = createNodeFetch({ allowPrivateNetwork: true });
	return new OAuthClient({
		metadata: {
			client_id: 'https://app.example.com/cold-burst/oauth-client-metadata.json',
			redirect_uris: ['https://app.example.com/oauth/callback'],
			scope: ['atproto', 'transition:generic'],
		},
		keyset,
		stores: { sessions, states: new MemoryStore() },
		actorResolver: new LocalActorResolver({
			handleResolver: new XrpcHandleResolver({ serviceUrl: server.pdsUrl }),
			didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: server.plcUrl }),
		}),
		allowHttp: true,
		// the facade's own transport, each request held `latencyMs` first: a PDS that far away
		fetch:
			latencyMs === 0
				? transport
				: async (input, init) => {
						await new Promise((resolve) => setTimeout(resolve, latencyMs));
						return transport(input, init);
					},
	});
};

const signingIn = newClient();
await server.registerClient(signingIn.metadata);
const { url } = await signingIn.authorize({ target: { type: 'account', identifier: 'alice.test' } });
const { session } = await signingIn.callback(await server.authorize(url));

const rows = {};
for (const latencyMs of LATENCIES_MS)
	for (const calls of BURSTS) {
		const rpc = new Client({ handler: await newClient(latencyMs).restore(session.did) });
		const before = await server.stats();
		const cpu = process.cpuUsage();
		const started = performance.now();
		const results = await Promise.all(
			Array.from({ length: calls }, () => rpc.get('com.atproto.server.getSession', {})),
		);
		const wall = performance.now() - started;
		const used = process.cpuUsage(cpu);
		const after = await server.stats();
		rows[`${calls} calls at once, PDS ${latencyMs === 0 ? 'on loopback' : `${latencyMs} ms away`}`] = {
			succeeded: results.filter((result) => result.ok).length,
			'refused for a nonce': after.nonceRetries.pds - before.nonceRetries.pds,
			'PDS requests': after.resource - before.resource,
			wall: `${(wall / 1000).toFixed(2)} s`,
			'client cpu per call': `${((used.user + used.system) / calls).toFixed(0)} µs`,
		};
	}
console.log("a new process's first burst of calls to a PDS (its DPoP nonce not known yet)");
console.table(rows);
await server.close();
