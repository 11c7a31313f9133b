import { Agent, get } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestOAuthServer } from './start-test-oauth-server.ts';
import type { TestOAuthServer } from './test-oauth-server.ts';

let server: TestOAuthServer;

beforeAll(async () => {
	server = await startTestOAuthServer();
});
afterAll(async () => {
	await server.close();
});

/** a GET through `agent`: whether it went over a socket an earlier request left open. */
const reused = (agent: Agent, url: string): Promise<boolean> => {
	return new Promise((resolve, reject) => {
		const req = get(url, { agent }, (res) => {
			res.resume();
			res.on('end', () => resolve(req.reusedSocket));
		});
		req.on('error', reject);
	});
};

describe('keep-alive', () => {
	// clients drop a socket whose announced Keep-Alive timeout is within their safety margin
	// (Node's agent 1 s, undici's fetch 2 s): with a 1 s default every request of every test
	// paid for a new TCP connection.
	it('keeps connections open long enough for a client to reuse them by default', async () => {
		const agent = new Agent({ keepAlive: true });
		try {
			const url = `${server.pdsUrl}/.well-known/oauth-protected-resource`;
			expect(await reused(agent, url)).toBe(false);
			expect(await reused(agent, url)).toBe(true);
		} finally {
			agent.destroy();
		}
	});

	it('closes kept-alive connections on close, so none holds the process', async () => {
		const own = await startTestOAuthServer();
		const agent = new Agent({ keepAlive: true });
		try {
			await reused(agent, `${own.plcUrl}/nothing`);
			const sockets = Object.values(agent.freeSockets).flat();
			expect(sockets).toHaveLength(1);
			const closedBy = new Promise((resolve) => sockets[0]!.once('close', resolve));
			await own.close();
			await closedBy;
		} finally {
			agent.destroy();
		}
	});
});
