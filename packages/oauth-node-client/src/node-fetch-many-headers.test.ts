import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type RawServer, startRawServer } from './test-utils/raw-server.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

// past node:http's default of 1,000 header lines, and within its 16 KiB header size limit
const LINES = 2_500;

describe('createNodeFetch: a response with many header lines', () => {
	let server: RawServer;
	beforeAll(async () => {
		server = await startRawServer((socket) => {
			socket.write(
				`HTTP/1.1 200 OK\r\n${'x: 1\r\n'.repeat(LINES)}DPoP-Nonce: n1\r\ncontent-length: 2\r\n\r\nok`,
			);
		});
	});
	afterAll(() => server.close());

	it('keeps every line, as fetch does: the DPoP-Nonce after them too', async () => {
		const response = await local(`${server.origin}/`);

		expect(response.headers.get('dpop-nonce')).toBe('n1');
		expect(response.headers.get('x')!.split(', ')).toHaveLength(LINES);
		expect(await response.text()).toBe('ok');
	});
});
