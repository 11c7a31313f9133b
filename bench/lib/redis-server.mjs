// a redis-server for the bench: REDIS_URL when set, else one of our own on a free loopback port,
// stopped by its pid when the bench ends (also on Ctrl-C, see cleanup.mjs).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

import { Redis } from 'ioredis';

import { ownProcess } from './cleanup.mjs';

const freePort = () =>
	new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});

/** a redis URL and a stop function. */
export const startRedis = async () => {
	if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };

	const port = await freePort();
	const child = spawn(
		'redis-server',
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
		{
			stdio: 'ignore',
		},
	);
	const { stop } = ownProcess(child);
	await new Promise((resolve, reject) => {
		child.once('error', () =>
			reject(new Error('redis-server is not installed (apt-get install redis-server)')),
		);
		child.once('spawn', resolve);
	});
	const url = `redis://127.0.0.1:${port}`;
	for (let i = 0; i < 100; i++) {
		const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
		probe.on('error', () => {});
		try {
			await probe.connect();
			await probe.ping();
			probe.disconnect();
			break;
		} catch {
			probe.disconnect();
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	}
	return {
		url,
		// resolves once it has exited, also when it had already (waiting for its 'exit' then never ended)
		stop,
	};
};
