import { describe, expect, expectTypeOf, it } from 'vitest';

import type { AuthorizeOptions } from './oauth-client-options.ts';
import { createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

// option types must not accept what authorize() refuses with a TypeError at the call
describe('AuthorizeOptions.prompt', () => {
	let server: TestOAuthServer;

	useTestServer((env) => ({ server } = env));

	it('is typed as the prompts authorize() takes', () => {
		expectTypeOf<NonNullable<AuthorizeOptions['prompt']>>().toEqualTypeOf<
			'none' | 'login' | 'consent' | 'select_account' | 'create'
		>();
	});

	it('refuses, at compile time as at run time, a prompt authorize() does not take', async () => {
		const { client } = await createTestClient(server);
		await expect(
			client.authorize({
				target: { type: 'account', identifier: 'alice.test' },
				// @ts-expect-error: `select-account` is not an OAuth prompt (`select_account` is)
				prompt: 'select-account',
			}),
		).rejects.toThrow(
			new TypeError(
				'prompt must be one of none, login, consent, select_account, create, got "select-account"',
			),
		);
	});
});
