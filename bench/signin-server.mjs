// the test server of the sign-in bench, over https with the bench's throwaway certificate, in a
// child process (its CPU is not the clients'). driven over IPC by signin.bench.mjs: it also plays
// the user's browser, and counts the requests each client makes.
import { readFileSync } from 'node:fs';

import { startTestOAuthServer } from '@atcute-oauth/test-oauth-server';

// the browser's own requests (the authorization page and the consent form), not a client's
const BROWSER_PATHS = new Set(['/oauth/authorize', '/oauth/authorize/consent']);

const [certPath, keyPath, host] = process.argv.slice(2);
// never outlive the bench that started us
process.on('disconnect', () => process.exit(0));

const server = await startTestOAuthServer({
	// a realistic keep-alive (Node's default), so clients reuse their connections as with a real PDS
	keepAliveTimeout: 5000,
	tls: { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') },
	host,
});
const account = server.createAccount({ handle: 'alice.test' });
let mark = 0;

const handlers = {
	register: ({ metadata }) => server.registerClient(metadata),
	authorize: async ({ url }) => (await server.authorize(url, { did: account.did })).toString(),
	// the requests since the last count, by server, method and path, and the nonce challenges
	count: () => {
		const counts = {};
		for (const request of server.stats.requests.slice(mark)) {
			if (request.server === 'as' && BROWSER_PATHS.has(request.path)) continue;
			const key = `${request.server} ${request.method} ${request.path}${request.proof === 'nonce' ? ' (use_dpop_nonce)' : ''}`;
			counts[key] = (counts[key] ?? 0) + 1;
		}
		mark = server.stats.requests.length;
		return counts;
	},
	rejections: () =>
		server.stats.rejections.map((r) => `${r.server} ${r.method} ${r.path} ${r.error}: ${r.reason}`),
	close: async () => {
		await server.close();
		return null;
	},
};

process.on('message', async ({ id, type, args }) => {
	try {
		const result = await handlers[type](args ?? {});
		process.send({ id, result: result ?? null }, () => {
			if (type === 'close') process.exit(0);
		});
	} catch (err) {
		process.send({ id, error: String(err?.stack ?? err) });
	}
});
process.send({ ready: { plcUrl: server.plcUrl, pdsUrl: server.pdsUrl, issuer: server.issuer } });
