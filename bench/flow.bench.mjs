// the client's CPU for a full sign-in, for restore() on a warm memory store, and for one
// authenticated PDS call through @atcute/client, beside a plain fetch() to the same server and
// one raw WebCrypto ES256 signature: a minimal hand-written DPoP client on fetch, the facade on its
// Node transport (its default) and on the global fetch, the core on fetch with WebCrypto, and the
// official @atproto/oauth-client-node 0.3.17 (its session's fetchHandler, on the global fetch), each
// as CPU per call and as a ratio to two plain calls of the same URL: unauthenticated (the issue's
// baseline, refused at once) and replaying one captured proof (as slow for the server as ours). the test server runs in a child process, so
// only the client's work is counted. run: pnpm bench flow

import { Client } from '@atcute/client';
import { LocalActorResolver, PlcDidDocumentResolver, XrpcHandleResolver } from '@atcute/identity-resolver';
import { OAuthClient as WebCryptoOAuthClient } from '@atcute/oauth-client';
import { generatePrivateKey, MemoryStore, OAuthClient } from '@atcute/oauth-node-client';

import { measureOp, printTable } from './lib/measure.mjs';
import { createOfficialClient } from './lib/official-client.mjs';
import { startServerProcess } from './lib/server-process.mjs';

const server = await startServerProcess();
const { subtle } = globalThis.crypto;

const sessionStores = new Map();
const makeClient = async (Client_, name, extra = {}) => {
	const sessions = new MemoryStore();
	sessionStores.set(name, sessions);
	const oauth = new Client_({
		metadata: {
			client_id: `https://app.example.com/${name}/oauth-client-metadata.json`,
			redirect_uris: ['https://app.example.com/oauth/callback'],
			scope: ['atproto', 'transition:generic'],
		},
		keyset: [await generatePrivateKey('main')],
		stores: { sessions, states: new MemoryStore() },
		actorResolver: new LocalActorResolver({
			handleResolver: new XrpcHandleResolver({ serviceUrl: server.pdsUrl }),
			didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: server.plcUrl }),
		}),
		allowHttp: true,
		...extra,
	});
	await server.registerClient(oauth.metadata);
	return oauth;
};

const login = async (oauth) => {
	const { url } = await oauth.authorize({ target: { type: 'account', identifier: 'alice.test' } });
	return oauth.callback(await server.authorize(url));
};

// the facade as shipped: node:crypto signer, and on Node the node:http transport
const oauth = await makeClient(OAuthClient, 'node');
// the facade told to use the global fetch
const fetchOauth = await makeClient(OAuthClient, 'node-fetch', { fetch: globalThis.fetch });
const webOauth = await makeClient(WebCryptoOAuthClient, 'web');
const { session } = await login(oauth);
const { session: fetchSession } = await login(fetchOauth);
const { session: webSession } = await login(webOauth);
const did = session.did;

// the official @atproto/oauth-client-node, set up as the others: a confidential client with an
// ES256 key, resolving handles through the same PDS and DIDs through the same PLC, allowed plain
// http (the test server's). it picks its DPoP algorithm from the server's list (ES256K first when
// listed; this server lists ES256, ES384, ES512, PS256, RS256, so ES256, as the others)
const officialOauth = await createOfficialClient({
	metadata: {
		client_id: 'https://app.example.com/official/oauth-client-metadata.json',
		redirect_uris: ['https://app.example.com/oauth/callback'],
		scope: 'atproto transition:generic',
	},
	pdsUrl: server.pdsUrl,
	plcUrl: server.plcUrl,
	allowHttp: true,
});
await server.registerClient(officialOauth.clientMetadata);
const { session: officialSession } = await officialOauth.callback(
	await server.authorize(await officialOauth.authorize('alice.test')),
);

const nodeRpc = new Client({ handler: session });
const fetchRpc = new Client({ handler: fetchSession });
const webRpc = new Client({ handler: webSession });
const officialRpc = new Client({
	handler: (pathname, init) => officialSession.fetchHandler(pathname, init),
});

// the floor: one ES256 signature over a proof-sized input
const floorKey = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
const floorInput = new Uint8Array(520).fill(97);
const floor = await measureOp('raw ES256 sign, WebCrypto', () =>
	subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, floorKey.privateKey, floorInput),
);
const restore = await measureOp('restore() on a warm MemoryStore', () => oauth.restore(did));
// sign-ins on a client of their own: a sign-in revokes the grant of the session it replaces, which
// would take the sessions measured below out from under them. each is a first sign-in (the last
// one's session dropped), and then, apart, a repeated one, which revokes the grant it replaces
const signInOauth = await makeClient(OAuthClient, 'node-signin');
const signInSessions = sessionStores.get('node-signin');
const signIn = await measureOp(
	'full sign-in (authorize + callback)',
	() => {
		signInSessions.clear();
		return login(signInOauth);
	},
	{ cpuIterations: 150, quick: true },
);
const signInAgain = await measureOp(
	'repeated sign-in (revoking the grant it replaces)',
	() => login(signInOauth),
	{ cpuIterations: 150, quick: true },
);

// real round trips: CPU per call is noisy next to the HTTP stack's own cost, so the callers take
// turns, round after round, and each gets the median of its rounds. before that, each makes
// WARMUP_CALLS calls, in the same turns and not counted: V8 takes a few thousand calls to settle
// (on this path a caller's CPU per call falls by a third over its first 3000), and the callers
// warm at different speeds, so medians taken earlier compare warm-up, not steady state.
const ROUNDS = 15;
const PER_ROUND = 200;
const WARMUP_CALLS = Number(process.env.BENCH_WARMUP_CALLS ?? 3000);
// a minimal hand-written DPoP client, the reference the target is set against: a header encoded
// once, one WebCrypto signature per call, the nonce kept in a variable. it borrows the web
// session's token and key, so it talks to the same server with the same credentials.
const borrowed = sessionStores.get('web').get(did);
const minimalKey = await subtle.importKey(
	'jwk',
	{ kty: 'EC', crv: 'P-256', x: borrowed.dpopKey.x, y: borrowed.dpopKey.y, d: borrowed.dpopKey.d },
	{ name: 'ECDSA', namedCurve: 'P-256' },
	false,
	['sign'],
);
const b64 = (value) => Buffer.from(value).toString('base64url');
const minimalHeader = b64(
	JSON.stringify({
		typ: 'dpop+jwt',
		alg: 'ES256',
		jwk: { kty: 'EC', crv: 'P-256', x: borrowed.dpopKey.x, y: borrowed.dpopKey.y },
	}),
);
const minimalUrl = `${server.pdsUrl}/xrpc/com.atproto.server.getSession`;
const minimalAth = b64(
	new Uint8Array(await subtle.digest('SHA-256', new TextEncoder().encode(borrowed.tokenSet.access_token))),
);
const minimalAuthorization = `DPoP ${borrowed.tokenSet.access_token}`;
let minimalNonce;
const minimalCall = async () => {
	for (let attempt = 0; attempt < 2; attempt++) {
		const input = `${minimalHeader}.${b64(
			JSON.stringify({
				htm: 'GET',
				htu: minimalUrl,
				iat: Math.floor(Date.now() / 1000),
				jti: crypto.randomUUID(),
				nonce: minimalNonce,
				ath: minimalAth,
			}),
		)}`;
		const signature = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, minimalKey, Buffer.from(input));
		const response = await fetch(minimalUrl, {
			headers: { authorization: minimalAuthorization, dpop: `${input}.${b64(new Uint8Array(signature))}` },
		});
		const nonce = response.headers.get('dpop-nonce');
		if (response.status === 401 && nonce && nonce !== minimalNonce) {
			minimalNonce = nonce;
			await response.body?.cancel();
			continue;
		}
		if (nonce) minimalNonce = nonce;
		return response.json();
	}
};

// the equal-latency baseline: one authenticated request's headers, sent again and again as they
// are. the proof carries no nonce, so the server verifies it (signature first) and then asks for a
// nonce with a 401: about the same server work and latency as a real call, and no client OAuth
// work. it is signed afresh before every round, outside the measured time, so its `iat` stays
// within the server's 60 s leeway (an older one would be refused for that instead).
let replayHeaders;
const signReplay = async () => {
	const input = `${minimalHeader}.${b64(
		JSON.stringify({
			htm: 'GET',
			htu: minimalUrl,
			iat: Math.floor(Date.now() / 1000),
			jti: crypto.randomUUID(),
			ath: minimalAth,
		}),
	)}`;
	const signature = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, minimalKey, Buffer.from(input));
	replayHeaders = { authorization: minimalAuthorization, dpop: `${input}.${b64(new Uint8Array(signature))}` };
};
// the server counts the unauthenticated calls as refusals (a nonce challenge is not one): expected
let expectedRejections = 0;
// through @atcute/client like the others, so the JSON and RPC handling is the same
const plainRpc = new Client({ handler: (pathname, init) => fetch(new URL(pathname, server.pdsUrl), init) });
const replayRpc = new Client({
	handler: (pathname, init) => fetch(new URL(pathname, server.pdsUrl), { ...init, headers: replayHeaders }),
});
const plainCall = (rpc) => {
	if (rpc === plainRpc) expectedRejections += 1;
	return rpc.get('com.atproto.server.getSession', {});
};

const callers = {
	// the baseline: a plain, unauthenticated global fetch of the same URL (the server
	// refuses it at once, without verifying anything)
	'getSession, plain fetch, unauthenticated': () => plainCall(plainRpc),
	// the same URL with the same headers, replayed: the server verifies the proof, then refuses it
	// for want of a nonce
	'getSession, plain fetch, replayed proof (equal latency)': () => plainCall(replayRpc),
	'getSession, minimal hand-written DPoP client (fetch)': minimalCall,
	'getSession, ours: facade default (Node transport)': () => nodeRpc.get('com.atproto.server.getSession', {}),
	'getSession, ours: facade on global fetch': () => fetchRpc.get('com.atproto.server.getSession', {}),
	'getSession, ours: core (WebCrypto) on global fetch': () => webRpc.get('com.atproto.server.getSession', {}),
	'getSession, official @atproto/oauth-client-node': () =>
		officialRpc.get('com.atproto.server.getSession', {}),
};
for (let done = 0; done < WARMUP_CALLS; done += PER_ROUND) {
	await signReplay();
	for (const call of Object.values(callers)) for (let i = 0; i < PER_ROUND; i++) await call();
}
const samples = Object.fromEntries(Object.keys(callers).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
	await signReplay();
	for (const [name, call] of Object.entries(callers)) {
		const start = process.cpuUsage();
		// each call's own wall time, so the table's "wall avg" and "wall p99" are what they say
		const walls = new Array(PER_ROUND);
		for (let i = 0; i < PER_ROUND; i++) {
			const wall = performance.now();
			await call();
			walls[i] = (performance.now() - wall) * 1e6;
		}
		const used = process.cpuUsage(start);
		samples[name].push({ cpuNs: ((used.user + used.system) * 1000) / PER_ROUND, walls });
	}
}
const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
const roundTrips = Object.entries(samples).map(([name, list]) => {
	const walls = list.flatMap((sample) => sample.walls).sort((a, b) => a - b);
	return {
		name,
		// CPU per call: the median of the rounds' (process.cpuUsage cannot time one call)
		cpuNs: median(list.map((sample) => sample.cpuNs)),
		wallNs: walls.reduce((sum, wall) => sum + wall, 0) / walls.length,
		p99Ns: walls[Math.min(walls.length - 1, Math.floor(walls.length * 0.99))],
	};
});

// the same calls with the network taken out: a fetch that answers at once, so what is left is
// exactly what the OAuth session adds per request (proof, headers, token checks)
const body = JSON.stringify({ did, handle: 'alice.test', active: true });
const instant = async () => new Response(body, { headers: { 'content-type': 'application/json' } });
// a session as callback() would store it, minted from the real one's shape
const { kty, crv, x, y, d } = await subtle.exportKey(
	'jwk',
	(await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign'])).privateKey,
);
const stored = {
	dpopKey: { kty, crv, x, y, d, alg: 'ES256' },
	authMethod: { method: 'none' },
	tokenSet: {
		iss: server.issuer,
		sub: did,
		aud: server.pdsUrl,
		scope: 'atproto',
		access_token: 'x'.repeat(600),
		refresh_token: 'r'.repeat(64),
		token_type: 'DPoP',
		expires_at: Date.now() + 3600_000,
	},
};
// each client reads the session from its own store, as restore() does
const storeWith = () => {
	const sessions = new MemoryStore();
	sessions.set(did, stored);
	return sessions;
};
const makeStubbed = (Base, sessions) =>
	new Base({
		metadata: { redirect_uris: ['http://127.0.0.1/cb'], scope: 'atproto' },
		stores: { sessions, states: new MemoryStore() },
		actorResolver: { resolve: async () => ({ did, handle: 'alice.test', pds: server.pdsUrl }) },
		fetch: instant,
		// the test server's PDS is plain http, as for the clients above
		allowHttp: true,
	});
const stubWeb = new Client({ handler: await makeStubbed(WebCryptoOAuthClient, storeWith()).restore(did) });
const stubNode = new Client({ handler: await makeStubbed(OAuthClient, storeWith()).restore(did) });
const stubPlain = new Client({
	handler: (pathname, init) => instant(new URL(pathname, server.pdsUrl), init),
});
const isolated = [
	await measureOp('no network: plain handler', () => stubPlain.get('com.atproto.server.getSession', {})),
	await measureOp('no network: OAuth session, node:crypto signer', () =>
		stubNode.get('com.atproto.server.getSession', {}),
	),
	await measureOp('no network: OAuth session, WebCrypto signer', () =>
		stubWeb.get('com.atproto.server.getSession', {}),
	),
];

printTable(
	'client CPU per operation',
	[floor, restore, signIn, signInAgain, ...roundTrips, ...isolated],
	floor.name,
);

const plain = roundTrips[0].cpuNs;
const replayed = roundTrips[1].cpuNs;
const plainStub = isolated[0].cpuNs;
console.log(
	'\nan authenticated getSession, client CPU per call and its ratio to a plain fetch of the same URL',
	'(unauthenticated, as the goal is set; and replaying one proof, so the server takes as long):',
);
for (const row of roundTrips.slice(2)) {
	console.log(
		`  ${row.name}: ${(row.cpuNs / 1000).toFixed(1)} µs, ${(row.cpuNs / plain).toFixed(2)}× unauthenticated, ${(row.cpuNs / replayed).toFixed(2)}× equal latency`,
	);
}
console.log(
	'with the network taken out, what the session adds above a plain handler, in WebCrypto signatures:',
);
for (const [i, label] of ['node:crypto signer', 'WebCrypto signer'].entries()) {
	const stub = isolated[i + 1].cpuNs - plainStub;
	console.log(`  ${label}: ${(stub / 1000).toFixed(1)} µs (${(stub / floor.cpuNs).toFixed(2)}×)`);
}
console.log(`sign-in (authorize + callback): ${(signIn.cpuNs / 1e6).toFixed(2)} ms of client CPU`);
console.log(
	`a repeated sign-in, revoking the grant it replaces: ${(signInAgain.cpuNs / 1e6).toFixed(2)} ms of client CPU`,
);
console.log(`restore(): ${(restore.wallNs / 1000).toFixed(2)} µs per call (wall, avg); target < 10 µs`);

const stats = await server.stats();
if (stats.rejections !== expectedRejections) {
	console.error(
		`the server refused ${stats.rejections - expectedRejections} request(s) it should have accepted: the figures above are not valid`,
	);
	process.exitCode = 1;
}
await server.close();
