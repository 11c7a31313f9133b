import { describe, expect, it } from 'vitest';

import { InvalidKeyError } from './errors.ts';
import { exportJwkKey } from './export-jwk-key.ts';
import { generatePrivateKey } from './generate-private-key.ts';
import { importJwkKey } from './import-jwk-key.ts';
import { publicJwkOf } from './internal/public-jwk-of.ts';

/** an object nested deeper than JSON.stringify can walk. */
const deeplyNested = (): unknown => {
	let value: unknown = {};
	for (let depth = 0; depth < 20_000; depth++) value = { value };
	return value;
};

/** an object that refers to itself. */
const cyclic = (): unknown => {
	const value: Record<string, unknown> = {};
	value.self = value;
	return value;
};

/** how importJwkKey failed on `jwk` with `options`: the error, which must be an InvalidKeyError. */
const refusal = async (jwk: unknown, options?: object): Promise<InvalidKeyError> => {
	const outcome = await importJwkKey(jwk as never, options as never).then(
		() => 'imported',
		(err: unknown) => err,
	);
	expect(outcome).toBeInstanceOf(InvalidKeyError);
	return outcome as InvalidKeyError;
};

// a key comes from the app's configuration, which may hold any value: each member an error names
// must give that error (with its reason), not a TypeError or RangeError from quoting the member
describe('the errors that name a key member hold whatever the member is', () => {
	const odd: [string, () => unknown, RegExp][] = [
		['a bigint', () => 5n, /a bigint/],
		['a cycle', cyclic, /an object/],
		['a deeply nested object', deeplyNested, /an object/],
		['a long list', () => Array.from({ length: 1000 }, () => 'sign'), /an array of 1000/],
	];

	for (const [label, make, named] of odd) {
		it(`names a "kty" that is ${label}`, async () => {
			const error = await refusal({ kty: make(), d: 'AA' });
			expect(error.reason).toBe('unsupported_key_type');
			expect(error.message).toMatch(named);
		});

		it(`names a "use" that is ${label}`, async () => {
			const jwk = { ...(await exportJwkKey(await generatePrivateKey('k1'))), use: make() };
			const error = await refusal(jwk);
			expect(error.reason).toBe('invalid_key');
			expect(error.message).toMatch(named);
		});

		it(`names an "alg" that is ${label}, in the key and as the option`, async () => {
			const jwk = await exportJwkKey(await generatePrivateKey('k1'));
			const inKey = await refusal({ ...jwk, alg: make() });
			expect(inKey.message).toMatch(named);
			const asOption = await refusal({ ...jwk, alg: undefined }, { alg: make() });
			expect(asOption.reason).toBe('unsupported_alg');
			expect(asOption.message).toMatch(named);
		});

		it(`names a "crv" that is ${label}`, async () => {
			const { alg: _alg, ...jwk } = await exportJwkKey(await generatePrivateKey('k1'));
			const error = await refusal({ ...jwk, crv: make() });
			expect(error.message).toMatch(named);
		});
	}

	it('cuts a long text member, and keeps a short list of text whole', async () => {
		const jwk = await exportJwkKey(await generatePrivateKey('k1'));
		const long = await refusal({ ...jwk, use: 'x'.repeat(10_000) });
		expect(long.message.length).toBeLessThan(200);
		expect(long.message).toContain(`"${'x'.repeat(64)}…"`);
		const ops = await refusal({ ...jwk, key_ops: ['verify', 'encrypt'] });
		expect(ops.message).toContain('["verify","encrypt"]');
	});

	it('publicJwkOf names a "kty" without a prototype rather than failing to print it', () => {
		expect(() => publicJwkOf({ kty: Object.create(null) } as never)).toThrow(
			/publicJwkOf expects an EC or RSA JWK, got kty an object/,
		);
	});
});
