/**
 * the error codes, on a fetch error's cause chain, of a connection that was never made: refused,
 * no such host (or no answer from DNS), no route, a TLS handshake that refused the server's
 * certificate (untrusted, expired, for another name, not for a server: the client stops before it
 * sends a byte of the request), or one the server refused (no TLS at all, no version, protocol or
 * client certificate in common). Node's (`node:net`, `node:dns`, `node:tls`, the Node facade's
 * guarded lookup) and undici's connect time-out. a request that failed so sent nothing. a reset
 * (`ECONNRESET`, `socket hang up`) is not one: it can come after the request went out.
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
	// a certificate not for a server (no serverAuth), or issued by one that is no CA
	'INVALID_PURPOSE',
	'INVALID_CA',
	'CERT_SIGNATURE_FAILURE',
	'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
	'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
	'ERROR_IN_CERT_NOT_BEFORE_FIELD',
	'ERROR_IN_CERT_NOT_AFTER_FIELD',
	'CERT_CHAIN_TOO_LONG',
	'PATH_LENGTH_EXCEEDED',
	// the server's refusal of the handshake, by an alert or by not speaking TLS (OpenSSL's reasons as
	// node:tls codes them; the Node facade's transport codes them so too): the request, held until
	// the handshake ends, was never read. a TLS 1.3 client sends it after its own Finished, but a
	// server that then requires a certificate ends the handshake before it decrypts a byte of it
	'ERR_SSL_WRONG_VERSION_NUMBER',
	'ERR_SSL_UNSUPPORTED_PROTOCOL',
	'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
	'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL',
	'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
	'ERR_SSL_TLSV1_UNRECOGNIZED_NAME',
	'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
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
