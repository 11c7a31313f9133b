import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

// a process frozen (a serverless function suspended, a laptop asleep, a debugger's pause) while
// its request waits for the answer, thawed once the answer sits in its socket and the inactivity
// timeout has passed: on thaw the socket's timer, due, runs before the socket is read. the answer
// must be read, not thrown away as "no data" (a token request's: the refresh token is spent).

const CHILD = fileURLToPath(new URL('./test-utils/frozen-fetch-child.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * runs the child's fetch of a local server, freezes the child once its request has arrived,
 * lets `whileFrozen` answer (all or part), thaws it 2.5 s later (past its 1 s inactivity
 * timeout), and resolves with what the child printed, or 'hung' if it had not exited 8 s later.
 */
const fetchFrozenWhile = async (whileFrozen: (res: ServerResponse) => void): Promise<unknown> => {
	let arrived!: (res: ServerResponse) => void;
	const request = new Promise<ServerResponse>((resolve) => (arrived = resolve));
	const server = createServer((req, res) => {
		req.resume();
		req.once('end', () => arrived(res));
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const { port } = server.address() as AddressInfo;
	const child = spawn(process.execPath, [CHILD, `http://127.0.0.1:${port}/token`], {
		cwd: fileURLToPath(new URL('..', import.meta.url)),
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let stdout = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
	const exited = once(child, 'exit');
	let stopped = false;
	try {
		const res = await request;
		process.kill(child.pid!, 'SIGSTOP');
		stopped = true;
		whileFrozen(res);
		await sleep(2_500);
		process.kill(child.pid!, 'SIGCONT');
		stopped = false;
		const outcome = await Promise.race([exited.then(() => 'exited'), sleep(8_000).then(() => 'hung')]);
		return outcome === 'hung' ? 'hung' : JSON.parse(stdout);
	} finally {
		if (stopped) process.kill(child.pid!, 'SIGCONT');
		if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
		server.closeAllConnections();
		server.close();
	}
};

describe('createNodeFetch in a process frozen while its answer arrives', () => {
	it('resolves with the answer that arrived while frozen, past its inactivity timeout', {
		timeout: 20_000,
	}, async () => {
		const printed = await fetchFrozenWhile((res) => {
			res.setHeader('content-type', 'application/json');
			res.end('{"refresh_token":"new"}');
		});
		expect(printed).toEqual({ status: 200, body: '{"refresh_token":"new"}' });
	});
});

describe('createNodeFetch in a process frozen while part of its answer arrives', () => {
	it('still fails the body once the server falls silent after the thaw (inactivity timeout)', {
		timeout: 20_000,
	}, async () => {
		// the headers and the start of the body arrive while frozen; then the server falls silent
		const printed = await fetchFrozenWhile((res) => {
			res.setHeader('content-type', 'application/json');
			res.write('{"refresh_token":');
		});
		// the child's inactivity timeout is 1 s: its body read fails well within the 8 s
		expect(printed).not.toBe('hung');
		expect(printed).toMatchObject({ cause: expect.stringContaining('no data for 1000 ms') });
	});
});
