// one client of the sign-in bench, in its own process so NODE_EXTRA_CA_CERTS (the bench's
// throwaway CA) applies from its start. driven over IPC by signin.bench.mjs: `run` signs in `count`
// times and reports the client CPU of each sign-in, authorize() plus callback(), measured with
// process.cpuUsage around those calls only (the browser step between them is the server's).
import { LocalActorResolver, PlcDidDocumentResolver, XrpcHandleResolver } from '@atcute/identity-resolver';
import {
	createNodeFetch,
	generatePrivateKey,
	OAuthClient as OurClient,
	MemoryStore as OurMemoryStore,
} from '@atcute/oauth-node-client';
import {
	generateClientAssertionKey,
	OAuthClient as UpstreamClient,
	MemoryStore as UpstreamMemoryStore,
} from 'atcute-upstream';

const [kind, configJson] = process.argv.slice(2);
const { plcUrl, pdsUrl, name, host } = JSON.parse(configJson);
process.on('disconnect', () => process.exit(0));

const pending = new Map();
let nextId = 0;
/** asks the bench (and through it the server) for something. */
const ask = (type, args) =>
	new Promise((resolve, reject) => {
		const id = nextId++;
		pending.set(id, { resolve, reject });
		process.send({ id, type, args });
	});

const metadata = {
	client_id: `https://app.example.com/${name}/oauth-client-metadata.json`,
	redirect_uris: ['https://app.example.com/oauth/callback'],
	scope: 'atproto transition:generic',
};
// the same resolvers for every client, on the global fetch (as in the seed), unless this client is
// the README's guarded setup, where they share the facade's transport (the official client builds
// its own from the same two URLs, below)
const actorResolver = (fetch) =>
	new LocalActorResolver({
		handleResolver: new XrpcHandleResolver({ serviceUrl: pdsUrl, ...(fetch ? { fetch } : {}) }),
		didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: plcUrl, ...(fetch ? { fetch } : {}) }),
	});

let oauth;
let sessions;
if (kind === 'upstream') {
	sessions = new UpstreamMemoryStore();
	oauth = new UpstreamClient({
		metadata,
		keyset: [await generateClientAssertionKey('main', 'ES256')],
		stores: { sessions, states: new UpstreamMemoryStore() },
		actorResolver: actorResolver(undefined),
	});
} else if (kind === 'ours') {
	sessions = new OurMemoryStore();
	oauth = new OurClient({
		metadata,
		keyset: [await generatePrivateKey('main')],
		stores: { sessions, states: new OurMemoryStore() },
		actorResolver: actorResolver(undefined),
		// the test server is on loopback: the SSRF guard lets exactly its name through
		allowPrivateNetwork: [host],
	});
} else if (kind === 'ours-guarded-resolvers') {
	const fetch = createNodeFetch({ allowPrivateNetwork: [host] });
	sessions = new OurMemoryStore();
	oauth = new OurClient({
		metadata,
		keyset: [await generatePrivateKey('main')],
		stores: { sessions, states: new OurMemoryStore() },
		actorResolver: actorResolver(fetch),
		fetch,
	});
} else if (kind === 'official') {
	// the official client, loaded only in its own process. confidential (private_key_jwt) with an
	// ES256 key like the others; handles resolved through the same PDS's resolveHandle and DIDs
	// through the same PLC, on the global fetch. its resolvers cache handles (10 min) and DID
	// documents by default, which the others' do not: no-op caches make it resolve afresh at every
	// sign-in, as they do (its authorization-server and protected-resource metadata caches, its own
	// like ours' discovery cache, are left as they are)
	const { createOfficialClient, mapStore } = await import('./lib/official-client.mjs');
	const noCache = {
		get: async () => undefined,
		set: async () => {},
		del: async () => {},
		clear: async () => {},
	};
	sessions = mapStore();
	oauth = await createOfficialClient({
		metadata,
		pdsUrl,
		plcUrl,
		sessionStore: sessions,
		handleCache: noCache,
		didCache: noCache,
	});
	// the same shape as the others' (authorize returns { url }; metadata is what is registered)
	const official = oauth;
	oauth = {
		metadata: official.clientMetadata,
		authorize: async ({ target }) => ({ url: await official.authorize(target.identifier) }),
		callback: (params) => official.callback(params),
		// the algorithm of its DPoP proofs: the first of the server's list its key can sign with (it
		// makes the key for the first it can of ES256K, then the others, shortest first)
		dpopAlg: ({ server }) => {
			const listed = server.serverMetadata.dpop_signing_alg_values_supported ?? [];
			const alg = listed.find((a) => server.dpopKey.algorithms.includes(a));
			return `${alg} (the server lists ${listed.join(', ')})`;
		},
	};
} else {
	throw new Error(`unknown client ${kind}`);
}
if (process.env.SIGNIN_DEBUG) {
	const describe = (e) => (e ? `${e.message} <- ${describe(e.cause)}` : '');
	process.on('unhandledRejection', (e) => console.error(describe(e)));
}

const cpuNow = () => {
	const { user, system } = process.cpuUsage();
	return user + system;
};

// the last sign-in's session (the official client reports its DPoP algorithm from it)
let lastSession;
/**
 * one sign-in by handle; resolves to its client CPU in µs. the account's session from the last
 * one is dropped first (not counted): each is a first sign-in, as the issue measures it, and ours
 * would otherwise also revoke the grant it replaces, which upstream does not do
 */
const signIn = async () => {
	await sessions.clear?.();
	let start = cpuNow();
	const { url } = await oauth.authorize({ target: { type: 'account', identifier: 'alice.test' } });
	let used = cpuNow() - start;
	const params = new URLSearchParams(await ask('authorize', { url: String(url) }));
	start = cpuNow();
	const { session } = await oauth.callback(params);
	used += cpuNow() - start;
	if (session.did === undefined && session.sub === undefined) throw new Error('no session');
	lastSession = session;
	return used;
};

process.on('message', async (message) => {
	if (message.id !== undefined && pending.has(message.id)) {
		const waiter = pending.get(message.id);
		pending.delete(message.id);
		if (message.error) waiter.reject(new Error(message.error));
		else waiter.resolve(message.result);
		return;
	}
	if (message.command === 'exit') process.exit(0);
	if (message.command === 'run') {
		try {
			const samples = [];
			for (let i = 0; i < message.count; i++) samples.push(await signIn());
			process.send({ done: samples, ...(oauth.dpopAlg ? { dpopAlg: oauth.dpopAlg(lastSession) } : {}) });
		} catch (err) {
			process.send({
				failed:
					String(err?.stack ?? err) +
					(process.env.SIGNIN_DEBUG
						? ` cause: ${err?.cause?.message} ${err?.cause?.cause?.message ?? ''} ${JSON.stringify(err?.cause?.issues ?? '')}`
						: ''),
			});
		}
	}
});

await ask('register', { metadata: oauth.metadata });
process.send({ ready: true });
