import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type RawServer, startRawServer } from './test-utils/raw-server.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

// status lines node:http parses but a standard Response cannot carry as they are
const ANSWERS: Record<string, string> = {
	'/600': 'HTTP/1.1 600 Weird\r\ncontent-length: 2\r\n\r\nhi',
	'/600-streamed': 'HTTP/1.1 600 Weird\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n',
	'/control': 'HTTP/1.1 200 O\x01K\r\ncontent-length: 2\r\n\r\nhi',
	'/control-streamed': 'HTTP/1.1 200 O\x01K\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
};

describe('createNodeFetch: a status line a Response cannot carry', () => {
	let server: RawServer;
	beforeAll(async () => {
		server = await startRawServer((socket, head) => {
			const path = head.split(' ')[1]!;
			socket.write(Buffer.from(ANSWERS[path] ?? 'HTTP/1.1 404 Not Found\r\n\r\n', 'latin1'));
		});
	});
	afterAll(() => server.close());

	it.each(['/600', '/600-streamed'])(
		'rejects a status outside 200-599 (%s) with a TypeError, and closes the connection',
		async (path) => {
			const error = await local(`${server.origin}${path}`).catch((e) => e);

			expect(error).toBeInstanceOf(TypeError);
			expect(error.message).toBe('fetch failed');
			expect(error.cause.message).toContain('600');
			await expect.poll(() => server.open).toBe(0);
		},
	);

	it.each(['/control', '/control-streamed'])(
		'drops a reason phrase with a control character (%s) and keeps the response',
		async (path) => {
			const response = await local(`${server.origin}${path}`);

			expect(response.status).toBe(200);
			expect(response.statusText).toBe('');
			expect(await response.text()).toBe('hi');
		},
	);
});
