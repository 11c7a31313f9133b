import { createServer, type Server } from 'node:net';

import { DiscoveryError, OAuthDiscovery } from '@atcute/oauth-discovery';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

// ports on the Fetch standard's bad-port list that a test may bind (above 1024)
const BINDABLE_BAD_PORTS = [6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080, 6566, 5060, 5061, 4190];

/** a TCP listener on 127.0.0.1 on the first bad port free here, counting its connections. */
const listenOnBadPort = async (): Promise<{ port: number; connections: () => number; server: Server }> => {
	for (const port of BINDABLE_BAD_PORTS) {
		let connections = 0;
		const server = createServer((socket) => {
			connections++;
			socket.destroy();
		});
		const bound = await new Promise<boolean>((resolve) => {
			server.once('error', () => resolve(false));
			server.listen(port, '127.0.0.1', () => resolve(true));
		});
		if (bound) return { port, connections: () => connections, server };
	}
	throw new Error(`none of the ports ${BINDABLE_BAD_PORTS.join(', ')} is free on 127.0.0.1`);
};

describe('createNodeFetch: the ports fetch refuses', () => {
	const fetch = createNodeFetch({ allowPrivateNetwork: true });
	let bad: Awaited<ReturnType<typeof listenOnBadPort>>;
	let redirecting: LoopbackServer;
	beforeAll(async () => {
		bad = await listenOnBadPort();
		redirecting = await startHttpServer((_request, response) => {
			response.writeHead(307, { location: `http://127.0.0.1:${bad.port}/` }).end();
		});
	});
	afterAll(async () => {
		await redirecting.close();
		await new Promise((resolve) => bad.server.close(resolve));
	});

	it('refuses a URL on a bad port as global fetch does, connecting to nothing', async () => {
		const url = `http://127.0.0.1:${bad.port}/`;
		const ours = await fetch(url).catch((error) => error);
		const theirs = await globalThis.fetch(url).catch((error) => error);

		expect(ours).toBeInstanceOf(TypeError);
		expect(ours.message).toBe('fetch failed');
		expect(ours.cause.message).toBe(`bad port ${bad.port}`);
		// no retry changes it: discovery and the client read this as a refusal, not a network failure
		expect(ours.cause.transient).toBe(false);
		// the same kind of failure as Node's own fetch gives
		expect(theirs).toBeInstanceOf(TypeError);
		expect(theirs.cause.message).toBe('bad port');
		expect(bad.connections()).toBe(0);
	});

	it('refuses a redirect to a bad port, with the POST that would have been sent there', async () => {
		const error = await fetch(`${redirecting.origin}/`, { method: 'POST', body: 'EHLO attacker' }).catch(
			(e) => e,
		);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.cause.message).toBe(`bad port ${bad.port}`);
		expect(redirecting.requests).toHaveLength(1);
		expect(bad.connections()).toBe(0);
	});

	it('is a refusal for discovery, not a failure to try again', async () => {
		const discovery = new OAuthDiscovery({ fetch, allowHttp: true });
		const error = await discovery.resolveFromPds(`http://127.0.0.1:${bad.port}`).catch((e) => e);

		expect(error).toBeInstanceOf(DiscoveryError);
		expect(error).toMatchObject({ code: 'refused', transient: false });
		expect(bad.connections()).toBe(0);
	});

	it('takes a port that is not on the list', async () => {
		const response = await fetch(`http://127.0.0.1:${redirecting.port}/`, { redirect: 'manual' });

		expect(response.status).toBe(307);
	});
});
