/**
 * what tells one token from the account's next ones: its length and two 32-bit FNV-1a hashes of
 * its characters (two starting values, two primes). not the token itself, which must not stay in
 * memory after its session (nor be readable from a heap dump). every character counts: a server's
 * tokens may share a prefix or a suffix. a collision, however unlikely, would treat the next
 * session as the old one until what was noted about it (a wait) ends.
 */
export const tokenFingerprint = (token: string): string => {
	let a = 0x811c9dc5;
	let b = 0x01000193;
	for (let i = 0; i < token.length; i++) {
		const code = token.charCodeAt(i);
		a = Math.imul(a ^ code, 0x01000193);
		b = Math.imul(b ^ code, 0x0100019d);
	}
	return `${token.length}:${(a >>> 0).toString(36)}:${(b >>> 0).toString(36)}`;
};
