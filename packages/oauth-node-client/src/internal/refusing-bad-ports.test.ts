import { describe, expect, it, vi } from 'vitest';

import { createNodeFetch } from '../create-node-fetch.ts';
import { refusingBadPorts } from './refusing-bad-ports.ts';

describe('refusingBadPorts', () => {
	it.each([
		['a string', 'https://pds.example:25/xrpc/x'],
		['a URL', new URL('http://pds.example:6667/')],
		['a Request', new Request('https://pds.example:1/oauth/token', { method: 'POST', body: 'grant' })],
	])(
		'refuses %s on a bad port before sending it, as the Node transport refuses it',
		async (_label, input) => {
			const inner = vi.fn(async () => new Response('sent'));
			const url = new URL(input instanceof Request ? input.url : input);

			const ours = await refusingBadPorts(inner)(input).catch((e) => e);
			const node = await createNodeFetch({ allowPrivateNetwork: true })(url).catch((e) => e);

			expect(inner).not.toHaveBeenCalled();
			expect(ours).toBeInstanceOf(TypeError);
			expect(ours.message).toBe('fetch failed');
			expect(ours.cause.message).toBe(`bad port ${url.port}`);
			// a refusal, so the client reports it as one (not a network failure to retry)
			expect(ours.cause.transient).toBe(false);
			expect({ message: node.message, cause: node.cause.message, transient: node.cause.transient }).toEqual({
				message: ours.message,
				cause: ours.cause.message,
				transient: ours.cause.transient,
			});
		},
	);

	it('hands any other request to the fetch it wraps, as given', async () => {
		const inner = vi.fn(async () => new Response('sent'));
		const fetch = refusingBadPorts(inner);
		const init = { method: 'POST', body: 'x', redirect: 'manual' } as const;
		const request = new Request('https://pds.example:8443/');

		for (const input of ['https://pds.example/', new URL('http://pds.example:8080/'), request]) {
			expect(await (await fetch(input, init)).text()).toBe('sent');
			expect(inner).toHaveBeenLastCalledWith(input, init);
		}
		// one fetch cannot parse is left to it, to fail as it does
		await fetch('/relative:25');
		expect(inner).toHaveBeenLastCalledWith('/relative:25', undefined);
	});
});
