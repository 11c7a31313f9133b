/** a lone surrogate: with the `u` flag, a surrogate that is half of a pair is not matched. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * throws a `TypeError` when `key` is not well-formed UTF-16 (it holds a lone surrogate). the
 * entry key goes into the authenticated data as UTF-8, and `TextEncoder` turns every lone
 * surrogate into U+FFFD: two such keys would share one AAD, so a ciphertext copied from one to
 * the other would decrypt. the message shows the key with its surrogates escaped (`\uD800`).
 */
export const checkEntryKey = (key: string): void => {
	if (typeof key === 'string' && LONE_SURROGATE.test(key)) {
		throw new TypeError(
			`the entry key ${escapeKey(key)} is not well-formed UTF-16 (it holds a lone surrogate): such a key cannot be told apart from others in the authenticated data`,
		);
	}
};

/** `key` quoted, its lone surrogates (and control characters) escaped as `\uXXXX`. */
const escapeKey = (key: string): string =>
	JSON.stringify(key).replace(/\\u([0-9a-f]{4})/g, (_match, hex: string) => `\\u${hex.toUpperCase()}`);
