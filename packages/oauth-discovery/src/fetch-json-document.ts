import { mediaTypeOf } from '@atcute-oauth/internal/media-type';
import { readCappedBody } from '@atcute-oauth/internal/read-capped-body';
import { refusalIn } from '@atcute-oauth/internal/refusal-in';
import { retryAfterMs } from '@atcute-oauth/internal/retry-after';

import { DEFAULT_TIMEOUT_MS } from './constants.ts';
import { DiscoveryError, type DiscoveryErrorCode, isTransientStatus } from './discovery-error.ts';
import { checkAllowHttp, checkFunction, checkSignal } from './internal/check-options.ts';
import { checkTimeout } from './internal/check-timeout.ts';
import { displayUrl, parseHttpUrl } from './internal/parse-http-url.ts';

/** the shape of `fetch` this package takes. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** options for `fetchJsonDocument`. */
export interface FetchJsonDocumentOptions {
	/** the most bytes read from the body; a positive integer. */
	maxBytes: number;
	/** the fetch to send the request with; default `globalThis.fetch`. */
	fetch?: FetchFunction | undefined;
	/**
	 * the time limit for the whole exchange, headers and body, in milliseconds; a positive number.
	 * default 10 000.
	 */
	timeout?: number | undefined;
	/**
	 * fetch `http:` URLs too; default false.
	 *
	 * > [!WARNING]
	 * > This option has security implications. Over plain http anyone on the network path can
	 * > rewrite the metadata, and with it choose the authorization server your users sign in to.
	 * > Turn it on for a local development PDS only, never in production.
	 */
	allowHttp?: boolean | undefined;
	/**
	 * gives up on the request when aborted: the call then rejects with the signal's own `reason`
	 * (by default a `DOMException` named `AbortError`), never a `DiscoveryError`.
	 */
	signal?: AbortSignal | undefined;
}

const JSON_MEDIA_TYPE = 'application/json';

/** the longest `Content-Type` repeated in an error message. */
const MAX_CONTENT_TYPE_IN_MESSAGE = 64;

// fatal: invalid UTF-8 is a broken document, not one to guess at
const decoder = new TextDecoder('utf-8', { fatal: true });

/** drops an unread body, so its connection is freed (or closed) instead of left streaming. */
const discard = async (response: Response): Promise<void> => {
	await response.body?.cancel().catch(() => {});
};

/** a short reason for a failed fetch, such as `ECONNREFUSED`, without any response content. */
const reasonOf = (error: unknown): string => {
	const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
	if (typeof cause?.code === 'string') return cause.code;
	return error instanceof Error ? error.message : String(error);
};

const readDocument = async (
	response: Response,
	url: string,
	maxBytes: number,
): Promise<Record<string, unknown>> => {
	const { status } = response;
	// the error's url is the document's, whole, for callers to match; its message is shortened
	const shown = displayUrl(url);

	// metadata must come from the URL we asked: a redirect could hand us another server's document
	// under this server's name. with redirect: 'manual' a browser gives an opaque redirect (status
	// 0), a server runtime the 3xx itself.
	// an app's fetch may follow the redirect whatever `redirect: 'manual'` says: its answer is
	// `redirected`, and another URL's document all the same
	if (response.type === 'opaqueredirect' || response.redirected || (status >= 300 && status < 400)) {
		await discard(response);
		throw new DiscoveryError(
			'redirect',
			url,
			`${shown} answered ${response.redirected ? 'through' : 'with'} a redirect${status === 0 || response.redirected ? '' : ` (${status})`}; metadata must be served without redirects`,
			{ status: status === 0 || response.redirected ? undefined : status },
		);
	}

	// every refusal below names the URL and carries the status
	const refuse = (code: DiscoveryErrorCode, problem: string) =>
		new DiscoveryError(code, url, `${shown} ${problem}`, { status });

	// RFC 8414 and RFC 9728 both answer with 200 exactly
	if (status !== 200) {
		await discard(response);
		// the wait a server that cannot answer for now asks for: the client holds its refreshes
		// back so long. an HTTP date is counted from the answer's own Date, which servers send
		const retryAfter = isTransientStatus(status) ? retryAfterMs(response.headers, Date.now()) : undefined;
		throw new DiscoveryError('bad_status', url, `${shown} answered with status ${status}, expected 200`, {
			status,
			retryAfterMs: retryAfter,
		});
	}

	const contentType = response.headers.get('content-type');
	// the last media type of a header sent more than once, as fetch reads it (see mediaTypeOf)
	if (contentType === null || mediaTypeOf(contentType) !== JSON_MEDIA_TYPE) {
		await discard(response);
		const got =
			contentType === null
				? 'no content type'
				: `content type ${JSON.stringify(contentType.slice(0, MAX_CONTENT_TYPE_IN_MESSAGE))}`;
		throw refuse('bad_content_type', `answered with ${got}, expected ${JSON_MEDIA_TYPE}`);
	}

	// refuse a declared oversize body before reading any of it
	const declared = Number(response.headers.get('content-length') ?? Number.NaN);
	if (declared > maxBytes) {
		await discard(response);
		throw refuse('too_large', `declared ${declared} bytes, more than the ${maxBytes} allowed`);
	}

	// the declared length may lie (or be absent, with chunked encoding): count what arrives
	const bytes = response.body === null ? new Uint8Array(0) : await readCappedBody(response.body, maxBytes);
	if (bytes === undefined) {
		throw refuse('too_large', `sent more than the ${maxBytes} bytes allowed`);
	}

	let json: unknown;
	try {
		json = JSON.parse(decoder.decode(bytes));
	} catch {
		// no cause: the parser's message quotes the body
		throw refuse('invalid_json', 'did not answer with valid JSON');
	}

	if (typeof json !== 'object' || json === null || Array.isArray(json)) {
		const got = json === null ? 'null' : Array.isArray(json) ? 'an array' : `a ${typeof json}`;
		throw refuse('invalid_metadata', `answered with ${got}, expected a JSON object`);
	}

	return json as Record<string, unknown>;
};

/**
 * fetches a JSON metadata document the hardened way: `https:` only (unless `allowHttp`), no
 * credentials in the URL, no redirects, status 200, `Content-Type: application/json`, a body of
 * at most `maxBytes` (declared and counted), a time limit over headers and body, and a JSON
 * object. every refusal is a `DiscoveryError`.
 * @see https://atproto.com/specs/oauth#authorization-servers
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.2
 */
export const fetchJsonDocument = async (
	url: string | URL,
	options: FetchJsonDocumentOptions,
): Promise<Record<string, unknown>> => {
	const {
		maxBytes,
		fetch = globalThis.fetch,
		timeout = DEFAULT_TIMEOUT_MS,
		allowHttp = false,
		signal,
	} = options;
	if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
		throw new TypeError(`maxBytes must be a positive integer, got ${maxBytes}`);
	}
	checkTimeout(timeout);
	checkAllowHttp(options.allowHttp);
	checkFunction('fetch', options.fetch);
	checkSignal(signal);

	// checked before anything is sent: a refused URL never sees a request
	const href = parseHttpUrl(url, allowHttp).href;
	const shown = displayUrl(href);

	// the caller's abort surfaces as the caller's reason, as everywhere in this project
	signal?.throwIfAborted();

	// one controller for both limits, so we can tell which one fired
	const controller = new AbortController();
	let timedOut = false;
	const timer = setTimeout(() => {
		timedOut = true;
		controller.abort();
	}, timeout);
	const onAbort = () => controller.abort();
	signal?.addEventListener('abort', onAbort, { once: true });

	// the limits hold whatever the fetch does with its signal: an app's fetch that swaps it for its
	// own, or a body that ignores it, is not waited for past them (it settles unheard)
	const stopped = new Promise<never>((_, reject) => {
		controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
	});
	const work = (async () => {
		const response = await fetch(href, {
			method: 'GET',
			headers: { accept: JSON_MEDIA_TYPE },
			// never follow: see readDocument
			redirect: 'manual',
			signal: controller.signal,
		});
		// the limits cover the body too: a server that trickles bytes is as stuck as a silent one
		return readDocument(response, href, maxBytes);
	})();
	// whichever loses the race settles unheard
	work.catch(() => {});
	stopped.catch(() => {});
	try {
		return await Promise.race([work, stopped]);
	} catch (error) {
		// a caller who gave up gets their own reason back, whatever the request died of
		signal?.throwIfAborted();
		if (error instanceof DiscoveryError) throw error;
		if (timedOut) {
			throw new DiscoveryError('timeout', href, `${shown} did not answer within ${timeout} ms`);
		}
		const refusal = refusalIn(error);
		if (refusal !== undefined) {
			throw new DiscoveryError('refused', href, `refused to fetch ${shown}: ${refusal.message}`, {
				cause: error,
			});
		}
		throw new DiscoveryError('network', href, `could not fetch ${shown}: ${reasonOf(error)}`, {
			cause: error,
		});
	} finally {
		clearTimeout(timer);
		signal?.removeEventListener('abort', onAbort);
	}
};
