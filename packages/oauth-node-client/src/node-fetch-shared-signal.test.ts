import { getEventListeners, getMaxListeners, setMaxListeners } from 'node:events';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

describe('the Node transport and one signal shared by many requests in flight', () => {
	const IN_FLIGHT = 12;
	let server: LoopbackServer;
	// answered all at once, when the last of a batch arrives: every request is in flight together
	let waiting: (() => void)[] = [];
	beforeAll(async () => {
		server = await startHttpServer((_request, response) => {
			waiting.push(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
			if (waiting.length === IN_FLIGHT) {
				for (const answer of waiting) answer();
				waiting = [];
			}
		});
	});
	afterAll(() => server.close());

	it("raises no listener warning, as Node's fetch raises none, and leaves no listener behind", async () => {
		const warnings: Error[] = [];
		const onWarning = (warning: Error) => warnings.push(warning);
		process.on('warning', onWarning);
		try {
			const fetch = createNodeFetch({ allowPrivateNetwork: true });
			const shutdown = new AbortController().signal;
			const responses = await Promise.all(
				Array.from({ length: IN_FLIGHT }, () => fetch(`${server.origin}/`, { signal: shutdown })),
			);
			await Promise.all(responses.map((response) => response.text()));
			// a warning is emitted on the next tick
			await new Promise((resolve) => setImmediate(resolve));
			expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
			expect(getEventListeners(shutdown, 'abort')).toHaveLength(0);
		} finally {
			process.off('warning', onWarning);
		}
	});

	it('leaves a limit the caller set on its signal as it is', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true });
		const signal = new AbortController().signal;
		setMaxListeners(40, signal);
		waiting = [];
		const responses = await Promise.all(
			Array.from({ length: IN_FLIGHT }, () => fetch(`${server.origin}/`, { signal })),
		);
		await Promise.all(responses.map((response) => response.text()));
		expect(getMaxListeners(signal)).toBe(40);
	});
});
