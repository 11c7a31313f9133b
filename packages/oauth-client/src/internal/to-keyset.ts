import { Keyset, type PrivateKey } from '@atcute/oauth-keys';

import { kindOf } from '@atcute-oauth/internal/kind-of';

/**
 * the client's keys as a `Keyset`: a `Keyset` as it is, a list of imported private keys made
 * into one. checked here, where the client receives them: a single key or null would fail
 * inside `Keyset` as "not iterable", and a key not awaited as "not imported".
 * @throws TypeError naming `keyset`, or the entry and what it is
 */
export const toKeyset = (keyset: Keyset | Iterable<PrivateKey>): Keyset => {
	if (keyset instanceof Keyset) return keyset;
	if (
		typeof keyset !== 'object' ||
		keyset === null ||
		typeof (keyset as Partial<Iterable<PrivateKey>>)[Symbol.iterator] !== 'function'
	) {
		throw new TypeError(
			`keyset must be a Keyset or an array of private keys (from importJwkKey()), got ${kindOf(keyset)}`,
		);
	}
	const keys = [...keyset];
	for (const [index, key] of keys.entries()) {
		if (typeof (key as Partial<PromiseLike<unknown>> | null)?.then === 'function') {
			throw new TypeError(`keyset entry ${index} is a Promise: await importJwkKey() first`);
		}
	}
	return new Keyset(keys);
};
