import { describe, expect, it } from 'vitest';

import { createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

describe('OAuthClient timeout past a timer', () => {
	let server: TestOAuthServer;
	useTestServer((env) => ({ server } = env));

	// 2^31 ms and more: a timer would fire after 1 ms, so it is refused; the error must say why
	it.each([2 ** 31, Number.MAX_SAFE_INTEGER])('refuses timeout %s, saying the limit', async (timeout) => {
		const error = await createTestClient(server, { timeout }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(TypeError);
		expect((error as Error).message).toMatch(/^timeout must be .*2147483647/);
	});
});
