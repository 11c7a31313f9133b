import type { FetchFunction } from '@atcute/oauth-dpop';
import { kindOf } from '@atcute-oauth/internal/kind-of';
import { checkOptionNames } from '@atcute-oauth/internal/option-names';

import { lazyNodeTransport } from './internal/lazy-node-transport.ts';
import { parseNoProxy } from './internal/no-proxy.ts';
import { createProxyTunnel, proxyAuthorizationOf } from './internal/proxy-tunnel.ts';

/** options for `createNodeFetch`. */
export interface NodeFetchOptions {
	/**
	 * which hosts may reach non-public addresses (loopback, private, link-local, ...): `false`
	 * (default) none, `true` all (the guard is off), or a list of host names (exact, case-
	 * insensitive, IDNs in Unicode or punycode; IP literals too) for an internal PDS or a test
	 * server on loopback. an entry that is not a bare host (`localhost:3000`, `*.internal`,
	 * `.internal`) throws a TypeError.
	 */
	allowPrivateNetwork?: boolean | readonly string[] | undefined;
	/**
	 * an HTTP proxy (`http://[user:pass@]host:port`) to open every connection through, with
	 * CONNECT tunnels; default none, as for an empty (or blank) string: an empty `HTTPS_PROXY`. the
	 * guard still applies: names are resolved and checked here and the proxy is asked for the
	 * checked address.
	 */
	proxy?: string | URL | undefined;
	/**
	 * hosts reached directly rather than through `proxy`, in the `NO_PROXY` convention (a string
	 * such as `process.env.NO_PROXY`, or a list): entries separated by commas or spaces; `*` for
	 * all; `example.com` that host and its subdomains; `.example.com` or `*.example.com` its
	 * subdomains only; `host:port` that port (1-65535) only; IP literals exactly. default none: loopback
	 * goes through the proxy too unless listed. the guard applies to direct connections as well.
	 */
	noProxy?: string | readonly string[] | undefined;
	/**
	 * how long a connection may stay silent while a request waits for its response or body, in
	 * milliseconds, up to 2 147 483 647 (a timer's limit); default 300 000 (as Node's fetch). the
	 * fetch (or the body's read) then fails with a cause saying `no data for … ms`. the callers' own
	 * time limits are shorter.
	 */
	inactivityTimeout?: number | undefined;
	/**
	 * how long a connection may take to open (the TCP connect, or the proxy's CONNECT tunnel, and
	 * then the TLS handshake), in milliseconds, up to 2 147 483 647 (a timer's limit); default
	 * 10 000 (as Node's fetch).
	 */
	connectTimeout?: number | undefined;
	/**
	 * how many requests may run at once at one origin (scheme, host and port); default 256,
	 * `Infinity` for no limit. later ones wait their turn, first come first served, and reuse the
	 * connections the earlier ones free; a wait ends with the request's `signal`, or fails after
	 * `inactivityTimeout`. a request runs until its answer has been read, cancelled, or dropped and
	 * collected, or until its body has been arriving for a second without ending: a long download,
	 * or a body read later or never (piped into an upload to the same server), then stops counting.
	 * the OAuth client's own requests have a line of their own beside it, an eighth of the limit (at
	 * least one): documents under `/.well-known/` and form-encoded POSTs (PAR, token, revocation),
	 * so that a refresh or a sign-out is not held behind a burst of calls. without a limit, a burst
	 * of thousands of calls over TLS opens thousands of connections at once, whose handshakes stall
	 * the event loop for seconds; with one, a server that takes a second to answer serves this many
	 * calls a second.
	 */
	maxRequestsPerOrigin?: number | undefined;
}

/** every option `createNodeFetch` takes: the record names each key of the type, and no other. */
const NODE_FETCH_OPTIONS = Object.keys({
	allowPrivateNetwork: true,
	proxy: true,
	noProxy: true,
	inactivityTimeout: true,
	connectTimeout: true,
	maxRequestsPerOrigin: true,
} satisfies Record<keyof NodeFetchOptions, true>);

/**
 * refuses options that are not an options object, which would otherwise be read as no options at
 * all (`createNodeFetch(process.env.HTTPS_PROXY)` would connect around the proxy, unnoticed), and
 * an option it does not know (`allowPrivate` for `allowPrivateNetwork`), which would be ignored.
 */
const checkOptions = (options: unknown): void => {
	// any object of options will do (a literal, a class instance, one made with Object.create), but
	// not what stands for a proxy's address: its text, a URL, a String or a list
	const proxyAddress = typeof options === 'string' || options instanceof String || options instanceof URL;
	if (typeof options === 'object' && options !== null && !proxyAddress && !Array.isArray(options)) {
		checkOptionNames('createNodeFetch(options)', options, NODE_FETCH_OPTIONS);
		return;
	}
	// the value is not shown: a proxy URL may carry the proxy's password
	const hint = proxyAddress ? " (to set a proxy, pass { proxy: '...' })" : '';
	throw new TypeError(`createNodeFetch options must be an object, got ${kindOf(options)}${hint}`);
};

/** the schemes WHATWG URL knows, whose `x:` is a scheme with or without `//` after it. */
const SPECIAL_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'file:']);

/**
 * a `fetch` on node:http and node:https: a standard `Response` (streaming body, `clone()`,
 * headers) for a fraction of the CPU of Node's global `fetch`. connections are kept alive and
 * reused; TLS is verified as Node does (`NODE_EXTRA_CA_CERTS` included); a request that found its
 * reused connection closed by the server is sent again only when that is safe (idempotent, with
 * a body we still hold); redirects are followed only under `redirect: 'follow'`. as with fetch,
 * a caller's `Host` header is dropped (the URL's is sent), and `Accept-Encoding: gzip, deflate` is
 * sent unless the caller sends its own (`identity` turns compression off); gzip, deflate (zlib or
 * raw) and br bodies are decoded.
 *
 * every connection is guarded against SSRF: the address a host resolves to is checked when the
 * socket connects (so DNS rebinding cannot get past the check), and IP literals before that;
 * loopback, private, shared (CGNAT), link-local, unique-local, multicast, unspecified and
 * reserved addresses, and the IPv6 forms that carry them, are refused with a
 * `PrivateNetworkError` unless `allowPrivateNetwork` lets the host through.
 *
 * @throws {TypeError} for options that are not an object, or an option it does not know or cannot
 * use (each named);
 * the fetch it returns rejects with a TypeError for a `signal` that is not an AbortSignal, before
 * anything is sent
 */
export const createNodeFetch = (options: NodeFetchOptions = {}): FetchFunction => {
	checkOptions(options);
	// text with nothing in it names no proxy: `HTTPS_PROXY=` (an env or compose file's empty
	// variable) passed as it is, as the README's sample does, means none, as curl and undici read it
	// and as an empty `noProxy` names no host. nothing is bypassed: there was no proxy to go through
	const proxy = typeof options.proxy === 'string' && options.proxy.trim() === '' ? undefined : options.proxy;
	let proxyUrl: URL | undefined;
	let proxyAuthorization: string | undefined;
	if (proxy !== undefined) {
		try {
			proxyUrl = new URL(proxy);
		} catch {
			// the URL is not shown: it may carry the proxy's password
			throw new TypeError('proxy must be an http: URL (http://[user:pass@]host:port), and is not a URL');
		}
		if (proxyUrl.protocol !== 'http:') {
			// `user:pass@host:port` without `http://` parses with the user name as its scheme: a scheme
			// is shown only when `//` follows it (or it is one of the special ones), never a credential
			const { protocol } = proxyUrl;
			const scheme =
				String(proxy).trimStart().slice(protocol.length).startsWith('//') || SPECIAL_SCHEMES.has(protocol);
			throw new TypeError(
				scheme
					? `proxy must be an http: URL, got ${protocol}`
					: 'proxy must be an http: URL (http://[user:pass@]host:port), and has no scheme (not repeated here: it may hold a password)',
			);
		}
		proxyAuthorization = proxyAuthorizationOf(proxyUrl);
	}
	const bypassesProxy = parseNoProxy(options.noProxy);
	return lazyNodeTransport(
		options,
		proxyUrl === undefined
			? undefined
			: (modules, secure, lookup, connectTimeout) =>
					createProxyTunnel(
						modules,
						proxyUrl,
						proxyAuthorization,
						secure,
						lookup,
						bypassesProxy,
						connectTimeout,
					),
	);
};
