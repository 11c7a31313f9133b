import { DiscoveryError } from '../discovery-error.ts';

/** the longest URL repeated in an error message; user input or remote documents may be huge. */
const MAX_URL_IN_MESSAGE = 256;

/**
 * what comes before an `@` at the start of a URL (its user info, with the scheme kept), for
 * messages about a URL that does not parse: `https://user:pass@host:99999`
 */
const USERINFO_RE = /^([a-z][a-z\d+.-]*:[/\\]*)?[^/?#\\]*@/i;

/**
 * `text` without its user info, read as the URL parser reads it: after any leading C0 control or
 * space, a scheme and any number of slashes or backslashes
 */
const withoutUserinfo = (text: string): string => {
	let start = 0;
	while (start < text.length && text.charCodeAt(start) <= 0x20) start++;
	return text.slice(start).replace(USERINFO_RE, '$1');
};

/** `url`, shortened for an error message. */
export const displayUrl = (url: string): string => {
	return url.length > MAX_URL_IN_MESSAGE ? `${url.slice(0, MAX_URL_IN_MESSAGE)}…` : url;
};

/**
 * parses an `https:` URL (or `http:` with `allowHttp`) without credentials, or throws a
 * `DiscoveryError` (`invalid_url`, `insecure_protocol`).
 */
export const parseHttpUrl = (input: string | URL, allowHttp: boolean): URL => {
	// a URL object of any realm (or a polyfill's) reads as its href; anything else is the caller's
	// mistake, named as such rather than read as a property of undefined
	const href: unknown = typeof input === 'string' ? input : (input as { href?: unknown } | null)?.href;
	if (typeof href !== 'string') {
		throw new TypeError(
			`the URL to resolve must be a string or a URL, got ${input === null ? 'null' : typeof input}`,
		);
	}
	const text = href;

	let url: URL;
	try {
		url = new URL(text);
	} catch {
		// credentials are never repeated, parsed or not
		const shown = displayUrl(withoutUserinfo(text));
		throw new DiscoveryError('invalid_url', shown, `invalid URL ${JSON.stringify(shown)}`);
	}

	if (url.username !== '' || url.password !== '') {
		// credentials would be sent to whoever serves the document; never repeat them in the error
		url.username = '';
		url.password = '';
		const shown = displayUrl(url.href);
		throw new DiscoveryError('invalid_url', shown, `refused ${shown}: the URL must not carry credentials`);
	}

	if (url.protocol === 'http:') {
		if (!allowHttp) {
			// plain http lets anyone on the path rewrite the metadata (and so pick the issuer)
			const shown = displayUrl(url.href);
			throw new DiscoveryError(
				'insecure_protocol',
				shown,
				`refused ${shown}: metadata must be fetched over https (allowHttp is for development only)`,
			);
		}
	} else if (url.protocol !== 'https:') {
		const shown = displayUrl(url.href);
		throw new DiscoveryError('invalid_url', shown, `refused ${shown}: only https URLs can be fetched`);
	}

	return url;
};
