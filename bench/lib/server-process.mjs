// the local test server in a child process, so that its CPU (proof verification, token
// minting) is not counted against the client being measured. driven over IPC.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (process.send && process.argv[2] === '--child') {
	const { startTestOAuthServer } = await import('@atcute-oauth/test-oauth-server');
	// never outlive the bench that started us
	process.on('disconnect', () => process.exit(0));
	// a realistic keep-alive (Node's default), so clients reuse their connections as with a real PDS
	const server = await startTestOAuthServer({ keepAliveTimeout: 5000 });
	const account = server.createAccount({ handle: 'alice.test' });

	process.on('message', async ({ id, type, args }) => {
		try {
			let result;
			if (type === 'register') result = server.registerClient(args.metadata);
			else if (type === 'authorize')
				result = (await server.authorize(args.url, { did: account.did })).toString();
			else if (type === 'stats')
				result = {
					token: server.stats.token,
					rejections: server.stats.rejections.length,
					nonceRetries: server.stats.nonceRetries,
					resource: server.stats.resource,
				};
			else if (type === 'behaviour') {
				// the test server's misbehaviour switches (see its behaviour.ts), e.g. resourceDelayMs
				Object.assign(server.behaviour, args);
				result = null;
			} else if (type === 'close') {
				await server.close();
				process.send({ id, result: null }, () => process.exit(0));
				return;
			}
			process.send({ id, result });
		} catch (err) {
			process.send({ id, error: String(err?.stack ?? err) });
		}
	});
	process.send({
		ready: { plcUrl: server.plcUrl, pdsUrl: server.pdsUrl, issuer: server.issuer, did: account.did },
	});
}

/** starts the test server in a child process; resolves once it listens. */
export const startServerProcess = () => {
	const child = fork(fileURLToPath(import.meta.url), ['--child'], {
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
	});
	const pending = new Map();
	let nextId = 0;
	const call = (type, args = {}) =>
		new Promise((resolve, reject) => {
			const id = nextId++;
			pending.set(id, { resolve, reject });
			child.send({ id, type, args });
		});

	return new Promise((resolve, reject) => {
		child.once('error', reject);
		child.on('message', (message) => {
			if (message.ready) {
				resolve({
					...message.ready,
					registerClient: (metadata) => call('register', { metadata }),
					authorize: async (url) => new URLSearchParams(await call('authorize', { url: String(url) })),
					stats: () => call('stats'),
					behave: (behaviour) => call('behaviour', behaviour),
					close: () => call('close'),
				});
				return;
			}
			const waiter = pending.get(message.id);
			pending.delete(message.id);
			if (message.error) waiter?.reject(new Error(message.error));
			else waiter?.resolve(message.result);
		});
	});
};
