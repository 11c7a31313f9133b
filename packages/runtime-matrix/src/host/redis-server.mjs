// a throwaway redis-server on a free loopback port for the matrix, stopped by its pid. Debian's
// package provides the binary; no registry package ships one.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';

import { freePort } from './free-port.mjs';

/** the command that installs redis-server, named when it is missing. */
export const REDIS_INSTALL_HINT = 'apt-get install -y --no-install-recommends redis-server';

const ping = (port) =>
	new Promise((resolve) => {
		const socket = connect(port, '127.0.0.1');
		let reply = '';
		socket.setTimeout(500, () => socket.destroy());
		socket.on('connect', () => socket.write('PING\r\n'));
		socket.on('data', (chunk) => {
			reply += chunk;
			if (reply.includes('\r\n')) socket.end();
		});
		socket.on('close', () => resolve(reply.startsWith('+PONG')));
		socket.on('error', () => {});
	});

/** starts redis-server; resolves `{ url, version, stop }` once it answers PING. */
export const startRedisServer = async () => {
	const port = await freePort();
	const child = spawn(
		'redis-server',
		[
			'--port',
			String(port),
			'--bind',
			'127.0.0.1',
			'--save',
			'',
			'--appendonly',
			'no',
			'--protected-mode',
			'yes',
		],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	let output = '';
	child.stdout.on('data', (chunk) => {
		output += chunk;
	});
	child.stderr.on('data', (chunk) => {
		output += chunk;
	});
	await new Promise((resolve, reject) => {
		child.once('error', (err) =>
			reject(err.code === 'ENOENT' ? new Error(`redis-server is not installed: ${REDIS_INSTALL_HINT}`) : err),
		);
		child.once('spawn', resolve);
	});
	const stop = async () => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		const exited = new Promise((resolve) => child.once('exit', resolve));
		process.kill(child.pid, 'SIGTERM');
		await exited;
	};
	for (let attempt = 0; attempt < 100; attempt++) {
		if (await ping(port)) {
			const version = /\bversion=(\d+\.\d+\.\d+)/.exec(output)?.[1] ?? 'unknown';
			return { url: `redis://127.0.0.1:${port}`, version, stop };
		}
		if (child.exitCode !== null) break;
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	await stop();
	throw new Error(`redis-server did not answer on 127.0.0.1:${port}:\n${output}`);
};
