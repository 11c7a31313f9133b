import { describe, expect, it } from 'vitest';

import { createClientAssertion } from './create-client-assertion.ts';
import { exportJwkKey } from './export-jwk-key.ts';
import { generatePrivateKey } from './generate-private-key.ts';
import { Keyset } from './keyset.ts';
import type { PrivateKey } from './private-key.ts';

const loose = <T>(value: unknown): T => value as T;
const options = {
	clientId: 'https://app.example.com/client-metadata.json',
	audience: 'https://as.example.com',
};

describe('createClientAssertion given something else than a key, or no options', () => {
	it('refuses what is not a key with a TypeError naming the key, never an internal one', async () => {
		const key = await generatePrivateKey('main');
		const jwk = await exportJwkKey(key);
		for (const [given, expected] of [
			[undefined, /createClientAssertion expects a key .*got undefined/],
			['main', /createClientAssertion expects a key .*got string/],
			[jwk, /createClientAssertion expects a key .*got a JWK/],
			[
				new Keyset([key]),
				/createClientAssertion expects a key .*got a Keyset: pick its key with keyset\.negotiate/,
			],
			[Promise.resolve(key), /createClientAssertion expects a key .*got a Promise/],
		] as const) {
			const error = await createClientAssertion(loose<PrivateKey>(given), options).catch(
				(err: unknown) => err,
			);
			expect(error).toBeInstanceOf(TypeError);
			expect((error as Error).message).toMatch(expected);
			// never the private key
			expect((error as Error).message).not.toContain(jwk.d);
		}
	});

	it('refuses missing options, and a clock that is not a function, naming them', async () => {
		const key = await generatePrivateKey('main');
		await expect(createClientAssertion(key, loose(undefined))).rejects.toThrow(
			/createClientAssertion options must be an object \(\{ clientId, audience, lifetime\?, now\? \}\), got undefined/,
		);
		await expect(createClientAssertion(key, loose({ ...options, now: 1_000 }))).rejects.toThrow(
			/client assertion clock \(options\.now\) must be a function/,
		);
	});
});
