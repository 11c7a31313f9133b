// makes OAuthClients with the built package, as an app's worker thread, cluster worker or plain
// process would, and reports the process warnings that followed. run by
// src/oauth-client.default-lock-warning.test.ts: `clients` clients, each with `createMemoryLock()`
// when `lock` is "memory", else with no requestLock, on a MemoryStore when `store` is "memory",
// else on a session store of the app's own; with `reload`, each client from the package evaluated
// anew (a fresh module instance, as a dev server's hot reload makes). as the main thread of a
// cluster primary (`cluster`), it forks one worker that does this and passes on the worker's report.
import cluster from 'node:cluster';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

import { createMemoryLock, generatePrivateKey, MemoryStore, OAuthClient } from '@atcute/oauth-node-client';

const config = isMainThread ? JSON.parse(process.env.CHILD_CONFIG) : workerData;

/** hands `report` to whoever started this: the thread's parent, the primary, or stdout. */
const send = (report) => {
	if (parentPort !== null) parentPort.postMessage(report);
	else if (cluster.isWorker) process.send(report);
	else process.stdout.write(`${JSON.stringify(report)}\n`);
};

/** a session store of the app's own, over a Map: nothing on it says whom it is shared with. */
const mapStore = () => {
	const map = new Map();
	return {
		get: (key) => map.get(key),
		set: (key, value) => void map.set(key, value),
		delete: (key) => void map.delete(key),
		clear: () => map.clear(),
	};
};

if (config.cluster && cluster.isPrimary) {
	const worker = cluster.fork({ CHILD_CONFIG: JSON.stringify({ ...config, cluster: false }) });
	worker.once('message', (report) => {
		process.stdout.write(`${JSON.stringify(report)}\n`);
		worker.kill();
	});
} else {
	const warnings = [];
	process.on('warning', (warning) => warnings.push({ name: warning.name, code: warning.code }));
	const keyset = [await generatePrivateKey('k1')];
	for (let i = 0; i < config.clients; i++) {
		const Client = config.reload
			? (await import(`${import.meta.resolve('@atcute/oauth-node-client')}?reload=${i}`)).OAuthClient
			: OAuthClient;
		new Client({
			metadata: {
				client_id: 'https://app.example.com/oauth-client-metadata.json',
				redirect_uris: ['https://app.example.com/oauth/callback'],
				scope: ['atproto'],
			},
			keyset,
			// a store of the app's own (as one over a shared database would be), or a MemoryStore
			stores: {
				sessions: config.store === 'memory' ? new MemoryStore() : mapStore(),
				states: new MemoryStore(),
			},
			actorResolver: { resolve: async () => ({}) },
			...(config.lock === 'memory' ? { requestLock: createMemoryLock() } : {}),
		});
	}
	// a warning is emitted on the next tick
	await new Promise((resolve) => setImmediate(resolve));
	send({ warnings });
}
