/** whether a host (as a URL gives it, IPv6 in brackets or not) may reach non-public addresses. */
export type HostAllowed = (host: string) => boolean;

/**
 * one entry as the URL parser writes a host, which is how every host it is compared with comes:
 * lower case, IDNs in punycode (`bücher.test` is `xn--bcher-kva.test`), IPv4 in dotted decimal,
 * IPv6 compressed and without brackets. anything but a bare host (a port, a path, a name the
 * parser refuses, a wildcard or `.domain`) is refused rather than left to never match.
 */
const normalizeEntry = (entry: unknown): string => {
	if (typeof entry === 'string' && (entry.includes('*') || entry.startsWith('.'))) {
		// the URL parser takes `*.internal` and `.internal` as names, which no host ever is: such an
		// entry would be accepted and never let anything through
		throw new TypeError(
			`allowPrivateNetwork: ${JSON.stringify(entry)} is a wildcard, and wildcards are not supported; list the exact hosts`,
		);
	}
	if (typeof entry === 'string' && entry !== '') {
		// a bare IPv6 literal has colons a URL reads as a port: bracket it first
		const host = entry.includes(':') && !entry.startsWith('[') ? `[${entry}]` : entry;
		let url: URL | undefined;
		try {
			url = new URL(`http://${host}`);
		} catch {}
		if (url !== undefined && url.href === `http://${url.hostname}/`) {
			return url.hostname.replace(/^\[|\]$/g, '');
		}
	}
	throw new TypeError(`allowPrivateNetwork: ${JSON.stringify(entry)} is not a host name or IP address`);
};

/**
 * the `allowPrivateNetwork` option as a predicate: `true` lets every host through, `false` or
 * none no host, a list the hosts it names (exactly; case, IDN and IP spellings normalised).
 * @throws {TypeError} for any other value, or naming an entry that is not a host (wildcards and
 * `.domain` suffixes included: only exact hosts are compared)
 */
export const allowList = (option: boolean | readonly string[] | undefined): HostAllowed => {
	if (option === true) return () => true;
	if (option === undefined || option === false) return () => false;
	if (!Array.isArray(option)) {
		throw new TypeError('allowPrivateNetwork must be true, false or a list of host names');
	}
	const hosts = new Set(option.map(normalizeEntry));
	return (host) => hosts.has(host.toLowerCase().replace(/^\[|\]$/g, ''));
};
