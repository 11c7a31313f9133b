import { isIP } from './node-builtin.ts';

/** one entry of a no-proxy list: a host (or domain suffix) and, optionally, a port. */
interface NoProxyEntry {
	host: string;
	/** match the host's subdomains only (`.example.com`, `*.example.com`). */
	suffix: boolean;
	/** 0: any port. */
	port: number;
}

/** whether a connection to `host` (no brackets) and `port` goes around the proxy. */
export type BypassesProxy = (host: string, port: number) => boolean;

// a host name as a URL gives it: lowercase, no brackets, no trailing dot of a fully qualified name
const normalizeHost = (host: string): string =>
	host
		.toLowerCase()
		.replace(/^\[|\]$/g, '')
		.replace(/\.$/, '');

/**
 * reads one entry, `host`, `host:port`, `[v6]:port`, `.suffix` or `*.suffix`; undefined if malformed.
 * @throws {TypeError} naming the entry for a port that is not a number from 1 to 65535 (a port of 0
 * or `abc` would otherwise be read as part of the host, or as any port, and never match as meant)
 */
const parseEntry = (raw: string): NoProxyEntry | undefined => {
	// a URL or a CIDR range (`http://a.test`, `10.0.0.0/8`), not a host[:port]
	if (raw.includes('/')) return undefined;
	let text = raw;
	let portText: string | undefined;
	// a bare IPv6 address has colons of its own: it has no port unless it is in brackets
	const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
	if (bracketed !== null) {
		text = bracketed[1]!;
		portText = bracketed[2];
		if (isIP(text) !== 6) return undefined;
	} else if (isIP(text) !== 6) {
		const colon = text.lastIndexOf(':');
		if (colon !== -1) {
			portText = text.slice(colon + 1);
			text = text.slice(0, colon);
		}
	}
	let suffix = false;
	if (text.startsWith('*.')) {
		suffix = true;
		text = text.slice(2);
	} else if (text.startsWith('.')) {
		suffix = true;
		text = text.slice(1);
	}
	const host = normalizeHost(text);
	if (host === '' || /[*[\]]/.test(host)) return undefined;
	// a colon left in the host is an IPv6 address's, or the entry is malformed (`a:b:80`)
	if (host.includes(':') && isIP(host) !== 6) return undefined;
	if (portText === undefined) return { host, suffix, port: 0 };
	const port = /^\d{1,5}$/.test(portText) ? Number(portText) : 0;
	if (port < 1 || port > 65_535) {
		throw new TypeError(
			`noProxy has an entry whose port is not a number from 1 to 65535: ${JSON.stringify(raw)}`,
		);
	}
	return { host, suffix, port };
};

/**
 * the `noProxy` option (the `NO_PROXY` convention) as a predicate. entries are separated by commas
 * or whitespace; `*` sends everything direct; `example.com` matches that host and its subdomains;
 * `.example.com` and `*.example.com` its subdomains only; `host:port` only that port; IP literals
 * match exactly (no CIDR ranges). nothing is exempt by default, loopback included.
 * @throws {TypeError} naming `noProxy` for an entry it cannot read, or whose port is not 1-65535
 */
export const parseNoProxy = (option: string | readonly string[] | undefined): BypassesProxy => {
	if (option === undefined) return () => false;
	const list = typeof option === 'string' ? [option] : option;
	if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) {
		throw new TypeError('noProxy must be a string (as NO_PROXY) or a list of strings');
	}
	const entries: NoProxyEntry[] = [];
	for (const raw of list.flatMap((item) => item.split(/[\s,]+/))) {
		if (raw === '') continue;
		if (raw === '*') return () => true;
		const entry = parseEntry(raw);
		if (entry === undefined) {
			throw new TypeError(
				`noProxy has an entry that is not a host, .domain or host:port: ${JSON.stringify(raw)}`,
			);
		}
		entries.push(entry);
	}
	if (entries.length === 0) return () => false;
	return (rawHost, port) => {
		const host = normalizeHost(rawHost);
		const address = isIP(host) !== 0;
		return entries.some((entry) => {
			if (entry.port !== 0 && entry.port !== port) return false;
			if (host === entry.host) return !entry.suffix;
			// an address has no subdomains, and is no one's: `0.0.1` does not match `10.0.0.1`
			return !address && isIP(entry.host) === 0 && host.endsWith(`.${entry.host}`);
		});
	};
};
