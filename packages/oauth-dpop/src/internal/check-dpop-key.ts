/** what was passed instead of a DPoP key, for the message; never any of its contents. */
const describeNonKey = (value: unknown): string => {
	if (value === null) return 'null';
	if (typeof value !== 'object') return typeof value;
	const record = value as Record<string, unknown>;
	if (typeof record.then === 'function') return 'a Promise: await it first';
	if (typeof record.kty === 'string') return 'a JWK: load it with importDpopKey first';
	return 'an object without alg, publicJwk and sign';
};

/**
 * throws a TypeError, naming `where`, unless `key` has what signing a proof reads: `alg`,
 * `publicJwk` and `sign`. without it the first proof fails on a property read of undefined.
 */
export const checkDpopKey = (where: string, key: unknown): void => {
	const record = key as { alg?: unknown; publicJwk?: unknown; sign?: unknown } | null | undefined;
	if (
		typeof record === 'object' &&
		record !== null &&
		typeof record.alg === 'string' &&
		typeof record.publicJwk === 'object' &&
		record.publicJwk !== null &&
		typeof record.sign === 'function'
	) {
		return;
	}
	throw new TypeError(
		`${where} must be a DPoP key from generateDpopKey or importDpopKey, got ${describeNonKey(key)}`,
	);
};
