// node:crypto's sign() refusing a converted key, as workerd's nodejs_compat does: the signer must
// move to WebCrypto, not fail every proof. (a file of its own: node:crypto is replaced here, where
// the facade loads it.)
import { importJWK, jwtVerify } from 'jose';
import { describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted(() => ({ sign: 0 }));
vi.mock('./internal/node-builtin.ts', async (importOriginal) => {
	const actual = await importOriginal<typeof import('./internal/node-builtin.ts')>();
	const crypto = {
		...(await import('node:crypto')),
		sign: () => {
			calls.sign += 1;
			// workerd's message for a KeyObject in sign's options
			throw new TypeError('The "options.key" property must be of type string or an instance of ArrayBuffer');
		},
	};
	return {
		...actual,
		nodeBuiltin: (id: string) => (id === 'node:crypto' ? crypto : actual.nodeBuiltin(id as 'node:net')),
	};
});

const { createNodeSigner, exportJwkKey, generatePrivateKey, Keyset } = await import('./index.ts');
const { createClientAssertion } = await import('@atcute/oauth-keys');

describe('createNodeSigner where node:crypto cannot sign with the key', () => {
	it('signs through WebCrypto instead, and stops trying node:crypto after the first failure', async () => {
		const key = await generatePrivateKey('fallback');
		for (let i = 0; i < 3; i++) {
			const jwt = await createClientAssertion(key, {
				clientId: 'https://app.example/meta.json',
				audience: 'https://as.example',
			});
			const [published] = new Keyset([key]).publicJwks.keys;
			const { payload } = await jwtVerify(jwt, await importJWK(published!, 'ES256'), {
				algorithms: ['ES256'],
				audience: 'https://as.example',
			});
			expect(payload.iss).toBe('https://app.example/meta.json');
		}
		expect(calls.sign).toBe(1);
	});

	it('generates no DPoP key in node:crypto there, so the caller generates it with WebCrypto', async () => {
		expect(createNodeSigner.generate?.('ES256')).toBeUndefined();
	});

	it('loads no restored key into node:crypto there, so the caller imports it with WebCrypto', async () => {
		const { kid: _kid, alg: _alg, ...params } = await exportJwkKey(await generatePrivateKey('restored'));
		expect(createNodeSigner.fromJwk?.(params, 'ES256')).toBeUndefined();
	});
});
