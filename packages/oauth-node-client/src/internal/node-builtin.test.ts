// a file of its own: it takes process.getBuiltinModule away before the facade first loads
// node:crypto, so the node: modules' cache (one per module graph) starts empty here.
import * as net from 'node:net';
import { exportDpopKey, generateDpopKey } from '@atcute/oauth-dpop';
import { generatePrivateKey as generateWebCryptoKey, Keyset } from '@atcute/oauth-keys';
import { importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeSigner } from '../node-signer.ts';
import { isIP, nodeBuiltin } from './node-builtin.ts';

describe('nodeBuiltin on a runtime without process.getBuiltinModule', () => {
	const original = process.getBuiltinModule;
	beforeAll(() => {
		// biome-ignore lint/suspicious/noExplicitAny: a runtime that lacks it
		(process as any).getBuiltinModule = undefined;
	});
	afterAll(() => {
		process.getBuiltinModule = original;
	});

	it('throws a TypeError that names the module', () => {
		expect(() => nodeBuiltin('node:crypto')).toThrow(
			new TypeError('node:crypto is not available: this runtime has no process.getBuiltinModule'),
		);
	});

	it('leaves createNodeSigner on WebCrypto, whose signatures verify', async () => {
		const key = await generateWebCryptoKey('webcrypto', 'ES256', { createSigner: createNodeSigner });
		const data = new TextEncoder().encode('payload');
		const pending = key.sign(data);
		// WebCrypto signs asynchronously, node:crypto does not
		expect(pending).toBeInstanceOf(Promise);
		const signature = await pending;
		const [published] = new Keyset([key]).publicJwks.keys;
		const publicKey = (await importJWK(published!, 'ES256')) as CryptoKey;
		const verified = await crypto.subtle.verify(
			{ name: 'ECDSA', hash: 'SHA-256' },
			publicKey,
			signature as Uint8Array<ArrayBuffer>,
			data,
		);
		expect(verified).toBe(true);
		// and restores no key into node:crypto, so the caller imports it with WebCrypto
		const { alg: _alg, ...params } = await exportDpopKey(await generateDpopKey());
		expect(createNodeSigner.fromJwk?.(params, 'ES256')).toBeUndefined();
	});
});

describe('nodeBuiltin', () => {
	it('gives the node: module itself, loaded once', () => {
		expect(nodeBuiltin('node:net').BlockList).toBe(net.BlockList);
		expect(nodeBuiltin('node:net')).toBe(nodeBuiltin('node:net'));
	});

	it("gives node:net's isIP through isIP", () => {
		expect([isIP('10.0.0.1'), isIP('::1'), isIP('example.com')]).toEqual([4, 6, 0]);
	});
});
