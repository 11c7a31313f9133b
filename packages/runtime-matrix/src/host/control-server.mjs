// one lane's test server (PLC, PDS and authorization server from @atcute-oauth/test-oauth-server)
// in this Node process, and a loopback HTTP control channel through which the suite, running in
// another runtime, creates accounts, plays the browser and reads the counters.
import { createServer } from 'node:http';

import { startTestOAuthServer } from '@atcute-oauth/test-oauth-server';

/** the largest control request body read, in bytes. */
const MAX_BODY_BYTES = 256 * 1024;

const readJson = async (req) => {
	let text = '';
	for await (const chunk of req) {
		text += chunk;
		if (text.length > MAX_BODY_BYTES) throw new Error('control request too large');
	}
	return text === '' ? {} : JSON.parse(text);
};

/** starts a test server and its control channel; `url` is the control channel's base URL. */
export const startControlServer = async () => {
	const server = await startTestOAuthServer();
	const operations = {
		urls: () => ({ plcUrl: server.plcUrl, pdsUrl: server.pdsUrl, issuer: server.issuer }),
		createAccount: ({ handle }) => server.createAccount({ handle }),
		registerClient: ({ metadata }) => server.registerClient(metadata),
		authorize: async ({ url, did }) => (await server.authorize(new URL(url), { did })).toString(),
		expireAccessTokens: ({ did }) => server.expireAccessTokens(did),
		rotateNonce: ({ which }) => server.rotateNonce(which),
		revokeAllTokensFor: ({ did }) => server.revokeAllTokensFor(did),
		setBehaviour: ({ patch }) => {
			Object.assign(server.behaviour, patch);
		},
		resetBehaviour: () => {
			for (const key of Object.keys(server.behaviour)) server.behaviour[key] = undefined;
		},
		statsFor: ({ did }) => {
			const grants = server.sessions(did);
			return {
				refreshes: server.stats.refreshByDid.get(did) ?? 0,
				grants: grants.length,
				activeGrants: grants.filter((grant) => grant.active).length,
			};
		},
		rejections: () => [
			...new Set(
				server.stats.rejections.map(
					(r) => `${r.server} ${r.method} ${r.path} → ${r.status} ${r.error}: ${r.reason}`,
				),
			),
		],
	};

	const http = createServer(async (req, res) => {
		const operation = operations[new URL(req.url ?? '/', 'http://control').pathname.slice(1)];
		try {
			if (req.method !== 'POST' || operation === undefined) throw new Error(`no such operation: ${req.url}`);
			const result = (await operation(await readJson(req))) ?? null;
			res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result }));
		} catch (err) {
			res
				.writeHead(500, { 'content-type': 'application/json' })
				.end(JSON.stringify({ error: String(err?.stack ?? err) }));
		}
	});
	await new Promise((resolve, reject) => {
		http.once('error', reject);
		http.listen(0, '127.0.0.1', resolve);
	});
	return {
		url: `http://127.0.0.1:${http.address().port}`,
		server,
		async close() {
			http.closeAllConnections();
			await new Promise((resolve) => http.close(resolve));
			await server.close();
		},
	};
};
