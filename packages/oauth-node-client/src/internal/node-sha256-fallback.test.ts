// a runtime without node:crypto (no process.getBuiltinModule): the hash must come from WebCrypto,
// not fail. (a file of its own: node-builtin is replaced here, where node-sha256 loads it.)
import { sha256Base64url } from '@atcute/oauth-keys';
import { describe, expect, it, vi } from 'vitest';

vi.mock('./node-builtin.ts', () => ({
	nodeBuiltin: (id: string) => {
		throw new TypeError(`${id} is not available: this runtime has no process.getBuiltinModule`);
	},
}));

const { nodeSha256 } = await import('./node-sha256.ts');

describe('nodeSha256 where node:crypto is missing', () => {
	it('hashes through WebCrypto instead', async () => {
		const hash = nodeSha256('élan ✓ 🦋');
		expect(hash).toBeInstanceOf(Promise);
		expect(await hash).toBe(await sha256Base64url('élan ✓ 🦋'));
	});
});
