/**
 * the statuses a redirect is followed on (RFC 9110 §15.4): the other 3xx (300, 304, 305, ...) are
 * answers in themselves. shared by the DPoP fetch, the Node transport and the well-known handle
 * resolver, which each follow (or refuse) redirects themselves.
 */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * whether following a redirect turns the request into a GET without a body: 303 (unless it was a
 * GET or HEAD), and 301/302 after a POST (the Fetch standard's rule).
 */
export const redirectsToGet = (status: number, method: string): boolean =>
	(status === 303 && method !== 'GET' && method !== 'HEAD') ||
	((status === 301 || status === 302) && method === 'POST');

/** headers about a body: dropped with it when a redirect turns the request into a GET. */
export const BODY_HEADERS: readonly string[] = [
	'content-type',
	'content-length',
	'content-encoding',
	'content-language',
	'content-location',
];

// a header value holds one character per byte (a ByteString); past ASCII, a Location's bytes are
// UTF-8 sent raw by a server that did not percent-encode its URL
const LATIN1_PAST_ASCII = /^[\0-\xff]*[\x80-\xff]/;
// fatal: a value that is no UTF-8 was decoded already (an `é` a runtime gave as U+00E9) or is
// bytes no server meant as UTF-8: given back as it is. the BOM, if any, is kept
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * a `Location` header's value as fetch follows it: where the server sent raw UTF-8 (a path with
 * `é` in it, not `%C3%A9`), the header's characters are its bytes, which `new URL` would encode
 * one by one (`%C3%83%C2%A9`, another path). fetch (WHATWG, undici) and browsers read them as
 * UTF-8 first; so does this. a value with a character past U+00FF was decoded already (a runtime
 * whose headers are not ByteStrings) and is given back as it is.
 */
export const locationText = (value: string): string => {
	if (!LATIN1_PAST_ASCII.test(value) || /[^\0-\xff]/.test(value)) return value;
	const bytes = new Uint8Array(value.length);
	for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i);
	try {
		return utf8.decode(bytes);
	} catch {
		return value;
	}
};
