/**
 * the error codes, on a fetch error's cause chain, of a connection that was never made: refused,
 * no such host (or no answer from DNS), no route, or a TLS handshake that refused the server's
 * certificate (untrusted, expired, for another name: the client stops before it sends a byte of
 * the request). Node's (`node:net`, `node:dns`, `node:tls`, the Node facade's guarded lookup) and
 * undici's connect time-out. a request that failed so sent nothing. a reset (`ECONNRESET`,
 * `socket hang up`) is not one: it can come after the request went out.
 */
const NEVER_CONNECTED = new Set([
	'ECONNREFUSED',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'UND_ERR_CONNECT_TIMEOUT',
	// node:tls's certificate checks (OpenSSL's verify results, and Node's own name check)
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'SELF_SIGNED_CERT_IN_CHAIN',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'UNABLE_TO_GET_ISSUER_CERT',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	'CERT_HAS_EXPIRED',
	'CERT_NOT_YET_VALID',
	'CERT_REVOKED',
	'CERT_UNTRUSTED',
	'CERT_REJECTED',
	'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * whether `error`, a fetch's failure, says the connection was never made, so the request it was
 * for was never sent: a code or refresh token it carried is unspent.
 */
export const neverConnected = (error: unknown): boolean => {
	for (let err = error, depth = 0; typeof err === 'object' && err !== null && depth < 8; depth++) {
		const { code } = err as { code?: unknown };
		if (typeof code === 'string' && NEVER_CONNECTED.has(code)) return true;
		err = (err as { cause?: unknown }).cause;
	}
	return false;
};
