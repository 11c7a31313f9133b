/** the order of secp256k1's group (SEC 2 §2.4.1). */
const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_ORDER = SECP256K1_ORDER >> 1n;

/**
 * an ES256K signature (raw `r || s`, 64 bytes) with its `s` in the lower half of the group's order.
 * `(r, s)` and `(r, n − s)` both verify, and OpenSSL returns either; verifiers that refuse the
 * high form (Bitcoin's rule, which many secp256k1 libraries apply by default, and atproto's for
 * its own signatures) would then refuse half of the proofs. lax verifiers take both.
 */
export const toLowS = (signature: Uint8Array): Uint8Array => {
	let s = 0n;
	for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(signature[i]!);
	if (s <= HALF_ORDER) return signature;
	// a copy: a Buffer's slice() would be a view of the input
	const low = new Uint8Array(signature);
	let flipped = SECP256K1_ORDER - s;
	for (let i = 63; i >= 32; i--) {
		low[i] = Number(flipped & 0xffn);
		flipped >>= 8n;
	}
	return low;
};
