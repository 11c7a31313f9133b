import { createClientAssertion } from '@atcute/oauth-keys';
import { importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';

import { exportJwkKey, generatePrivateKey, importJwkKey, Keyset } from './index.ts';

// the key-management lines of the documented setup (scripts/setup-env.mjs and the keyset line)
describe('documented key setup', () => {
	it('generates, exports, checks, stores and re-imports a key as the setup script does', async () => {
		const privateKey = await generatePrivateKey('main', 'ES256');
		const jwk = await exportJwkKey(privateKey);

		// sanity-check that the key parses before writing
		await importJwkKey(jwk);

		const jwkJson = JSON.stringify(jwk);
		// the script writes PRIVATE_KEY_JWK='<json>' and dotenv strips the quotes again
		const envLine = `PRIVATE_KEY_JWK='${jwkJson}'`;
		const envValue = envLine.slice('PRIVATE_KEY_JWK='.length).slice(1, -1);

		const keyset = await Promise.all([importJwkKey(envValue)]);
		expect(keyset).toHaveLength(1);
		expect(keyset[0]!.kid).toBe('main');
		expect(keyset[0]!.alg).toBe('ES256');
		expect(keyset[0]!.publicJwk).toEqual(privateKey.publicJwk);

		// the re-imported key signs what the published JWKS verifies
		const jwks = new Keyset(keyset).publicJwks;
		const jwt = await createClientAssertion(keyset[0]!, {
			clientId: 'https://app.example/c.json',
			audience: 'https://as',
		});
		await expect(jwtVerify(jwt, await importJWK(jwks.keys[0]!, 'ES256'))).resolves.toBeTruthy();
	});

	it('writes a JWK with exactly the private EC fields plus kid and alg', async () => {
		const jwk = await exportJwkKey(await generatePrivateKey('main'));
		expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'd', 'kid', 'kty', 'x', 'y']);
	});
});

describe('the facade key imports pass options on as given', () => {
	it('names a string given as options, rather than reading its characters as options', async () => {
		const { exportPkcs8Key, importPkcs8Key } = await import('./index.ts');
		const pem = await exportPkcs8Key(await generatePrivateKey('main'));
		const as = importPkcs8Key as unknown as (pem: string, options: unknown) => Promise<unknown>;
		await expect(as(pem, 'main')).rejects.toThrow(/got string$/);
		await expect(importPkcs8Key(pem, { kid: 'main' })).resolves.toMatchObject({ kid: 'main' });
	});

	it('signs through node:crypto (synchronously) when createSigner is given as undefined', async () => {
		const { exportPkcs8Key, importPkcs8Key } = await import('./index.ts');
		const key = await generatePrivateKey('main');
		const jwk = await exportJwkKey(key);
		const pem = await exportPkcs8Key(key);
		const data = new TextEncoder().encode('signed');
		// as JavaScript may pass it, or an options object built with the field left unset
		for (const imported of [
			await importJwkKey(jwk, { kid: 'main', createSigner: undefined } as never),
			await importPkcs8Key(pem, { kid: 'main', createSigner: undefined } as never),
		]) {
			// WebCrypto's signer answers with a promise; node:crypto's with the bytes
			expect(imported.sign(data)).toBeInstanceOf(Uint8Array);
		}
	});
});
