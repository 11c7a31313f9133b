import { decodeValue, encodeValue } from './internal/compact-value.ts';
import type { MemoryStoreCodec } from './memory-store.ts';

/**
 * a `MemoryStore` codec that keeps each value as one string: its JSON, with every long base64url
 * string (tokens, key parameters) kept as its bytes. a session takes about a quarter less heap,
 * and every read decodes a fresh copy, so a caller mutating a value cannot change what is stored.
 * values must be JSON: `encode` throws a `TypeError` for one that is not.
 * @example new MemoryStore({ codec: compactCodec })
 */
export const compactCodec: MemoryStoreCodec = {
	encode: (value) => encodeValue(value),
	decode: (kept) => decodeValue(kept as string),
};
