import { inspect } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type RawServer, startRawServer } from './test-utils/raw-server.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

const SECRET = 'rt-hunter2-refresh-token-value';
const BODY = JSON.stringify({ access_token: 'at-secret', token_type: 'DPoP', refresh_token: SECRET });

// an answer node:http cannot parse (a header with a control character, from a broken gateway),
// whose body carries tokens: the parser's error holds the raw bytes it was given
const ANSWER = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-bad: a\x01b\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY}`;

/** every error of a cause chain, with its own properties, as a logger's serializer would see them. */
const chainText = (error: unknown): string => {
	const parts: string[] = [];
	for (let e = error as { cause?: unknown } | undefined; e != null; e = e.cause as typeof e) {
		parts.push(inspect(e, { depth: 5, maxArrayLength: Infinity, maxStringLength: Infinity }));
		for (const value of Object.values(e)) {
			if (Buffer.isBuffer(value) || value instanceof Uint8Array)
				parts.push(Buffer.from(value).toString('latin1'));
		}
		parts.push(JSON.stringify(e));
		if (typeof e !== 'object') break;
	}
	return parts.join('\n');
};

describe('createNodeFetch: an answer that does not parse', () => {
	let server: RawServer;
	beforeAll(async () => {
		server = await startRawServer((socket) => {
			socket.write(Buffer.from(ANSWER, 'latin1'));
		});
	});
	afterAll(() => server.close());

	it('fails the fetch without the raw bytes of the answer (its tokens) in the cause', async () => {
		const error = await local(`${server.origin}/oauth/token`, { method: 'POST', body: 'grant_type=x' }).catch(
			(e) => e,
		);
		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe('fetch failed');
		expect(chainText(error)).not.toContain(SECRET);
	});
});
