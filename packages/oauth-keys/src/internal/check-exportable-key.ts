/** what was passed instead of a key, for the message; never any of its contents. */
const describeNonKey = (value: unknown): string => {
	if (value === null) return 'null';
	if (typeof value !== 'object') return typeof value;
	const record = value as Record<string, unknown>;
	if (typeof record.then === 'function') return 'a Promise: await it first';
	if (typeof record.kty === 'string') return 'a JWK, which is exported already';
	return 'an object without a private cryptoKey';
};

/**
 * throws a TypeError, naming `fn` and the functions that make keys, unless `key` holds a private
 * `CryptoKey` to export. without it the caller would see WebCrypto's own message about a
 * "2nd argument", or a property read of undefined.
 */
export const checkExportableKey = (fn: string, makers: string, key: unknown): void => {
	const cryptoKey = (key as { cryptoKey?: { type?: unknown } | null } | null | undefined)?.cryptoKey;
	if (typeof key === 'object' && key !== null && cryptoKey?.type === 'private') {
		return;
	}
	throw new TypeError(`${fn} expects a key from ${makers}, got ${describeNonKey(key)}`);
};
