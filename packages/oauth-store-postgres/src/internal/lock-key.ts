import { createHash } from 'node:crypto';

/**
 * the advisory lock key for `text`: the first 8 bytes of its SHA-256, as the signed 64-bit
 * integer PostgreSQL takes, in decimal. 64 bits, so two names of the millions an app may lock
 * practically never share a key (sharing one would only make them wait for each other).
 */
export const lockKey = (text: string): string =>
	createHash('sha256').update(text, 'utf8').digest().readBigInt64BE(0).toString();
