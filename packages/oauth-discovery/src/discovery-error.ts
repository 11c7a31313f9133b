/** what went wrong during discovery; stable values callers may branch on. */
export type DiscoveryErrorCode =
	/** the URL does not parse, is not http(s), or carries credentials. */
	| 'invalid_url'
	/** an `http:` URL without `allowHttp`. */
	| 'insecure_protocol'
	/** the server answered with a redirect; metadata must be served directly. */
	| 'redirect'
	/** the status was not 200; see `status`. */
	| 'bad_status'
	/** the `Content-Type` was not `application/json`. */
	| 'bad_content_type'
	/** the body was larger than the cap. */
	| 'too_large'
	/** the server did not answer in time. */
	| 'timeout'
	/** the server could not be reached (DNS, connection, TLS, reset). */
	| 'network'
	/**
	 * the fetch refused to connect on purpose, and says so with an error marked `transient: false`
	 * in its cause chain: an SSRF guard refusing a private address (the Node facade's
	 * `PrivateNetworkError`). asking again gives the same answer.
	 */
	| 'refused'
	/** the body was not JSON. */
	| 'invalid_json'
	/** the JSON was not an object, or broke the atproto profile. */
	| 'invalid_metadata'
	/** the document describes another resource or issuer than the one asked for. */
	| 'mismatch';

/** options of a `DiscoveryError`. */
export interface DiscoveryErrorOptions {
	/** the HTTP status, when there was a response. */
	status?: number | undefined;
	/** the underlying error, when there was one; never a response body. */
	cause?: unknown;
	/** the wait the server's `Retry-After` asked for, in milliseconds, when it sent one. */
	retryAfterMs?: number | undefined;
}

// these say nothing about the document: asking again later may well succeed
const TRANSIENT_CODES: ReadonlySet<DiscoveryErrorCode> = new Set(['network', 'timeout']);

/** whether an HTTP status is a temporary failure: server errors, rate limits, request timeouts. */
export const isTransientStatus = (status: number | undefined): boolean => {
	return status !== undefined && (status >= 500 || status === 429 || status === 408);
};

/**
 * thrown when a metadata document cannot be fetched or is refused. the message names the problem,
 * the field (as a JSON path) and the document URL, and never contains the body.
 */
export class DiscoveryError extends Error {
	override name = 'DiscoveryError';
	/** what went wrong. */
	readonly code: DiscoveryErrorCode;
	/**
	 * the URL of the document (or the URL that was refused), without credentials. a document's
	 * URL is whole, for a caller to compare with the URL it asked for, where the message shortens
	 * it past 256 characters; a URL refused before any request (it does not parse, carries
	 * credentials, is not https, or is no origin where one is needed) is shortened here too.
	 */
	readonly url: string;
	/** the HTTP status, when there was a response. */
	readonly status: number | undefined;
	/**
	 * true for network failures, timeouts, 5xx, 429 and 408: a temporary failure that says nothing
	 * about the server's metadata, so it must never count as a verdict (never delete a session
	 * over it). false for everything else.
	 */
	readonly transient: boolean;
	/**
	 * the wait, in milliseconds, the server's `Retry-After` asked for (whole seconds, or an HTTP date
	 * counted from its `Date`), capped at one hour; set on a transient status (5xx, 429, 408) that
	 * carried one, else undefined.
	 */
	readonly retryAfterMs: number | undefined;

	/**
	 * @param code what went wrong
	 * @param url the document's URL (or the refused URL); pass it without credentials
	 * @param message names the problem, never the body
	 * @param options the HTTP status and the underlying error, when there are any
	 */
	constructor(code: DiscoveryErrorCode, url: string, message: string, options: DiscoveryErrorOptions = {}) {
		super(message, options.cause === undefined ? undefined : { cause: options.cause });
		this.code = code;
		this.url = url;
		this.status = options.status;
		this.transient =
			TRANSIENT_CODES.has(code) || (code === 'bad_status' && isTransientStatus(options.status));
		this.retryAfterMs = options.retryAfterMs;
	}
}
