/**
 * why a request was answered with an error: a `rejection` is something the client got wrong
 * (recorded in `stats.rejections`), a `nonce` challenge is ordinary DPoP flow, a `misbehaviour` was
 * asked for through `server.behaviour`.
 */
export type ErrorKind = 'rejection' | 'nonce' | 'misbehaviour';

/** an error answer of one of the servers. */
export class HttpError extends Error {
	override name = 'HttpError';

	constructor(
		/** the HTTP status. */
		readonly status: number,
		/** the OAuth (or XRPC) error code. */
		readonly error: string,
		/** the human-readable description. */
		readonly description: string,
		/** what kind of answer this is; default `rejection`. */
		readonly kind: ErrorKind = 'rejection',
		/** extra response headers. */
		readonly headers: Record<string, string> = {},
	) {
		super(`${error}: ${description}`);
	}
}

/** quotes a value for a `WWW-Authenticate` auth-param. */
const quote = (value: string): string => `"${value.replace(/["\\]/g, '\\$&')}"`;

/**
 * the `WWW-Authenticate: DPoP …` header value of an error, as the reference server sends it: the
 * accepted `algs` first, then `error` and `error_description`.
 */
export const dpopChallenge = (error: string, description: string, algs: readonly string[]): string => {
	return `DPoP algs=${quote(algs.join(' '))}, error=${quote(error)}, error_description=${quote(description)}`;
};
