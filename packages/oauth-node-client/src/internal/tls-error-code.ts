/** OpenSSL's reason, as node:tls's messages quote it: `error:0A00010B:SSL routines:<function>:<reason>:`. */
const SSL_REASON = /:SSL routines:[^:]*:([^:]+):/;

/**
 * `error` with the `ERR_SSL_*` code Node's fetch reports for the same TLS failure, when node:http
 * gave it as `EPROTO`. a request is written into its TLS socket before the handshake ends (fetch
 * waits for it), so a handshake the server refused (a plain HTTP server on an https port, TLS 1.0
 * only, h2 only, a client certificate required) fails that write first, with the errno and
 * OpenSSL's reason only in the message. the code is made as node:tls makes it (the reason upper-
 * cased, spaces as underscores), so callers that classify a failure by its code (a handshake
 * that failed sent nothing) read the same code as from fetch; `errno` keeps the number (-71 on
 * Linux), and the `EPROTO` name is gone.
 */
export const withTlsCode = (error: unknown): unknown => {
	if (typeof error !== 'object' || error === null) return error;
	const { code, message } = error as { code?: unknown; message?: unknown };
	if (code !== 'EPROTO' || typeof message !== 'string') return error;
	const reason = SSL_REASON.exec(message)?.[1];
	if (reason === undefined) return error;
	(error as { code: string }).code = `ERR_SSL_${reason.toUpperCase().replace(/ /g, '_')}`;
	return error;
};
