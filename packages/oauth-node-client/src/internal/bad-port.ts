// the Fetch standard's "bad port" list (https://fetch.spec.whatwg.org/#port-blocking): ports of
// services that speak another protocol (SMTP, IRC, SIP, X11, ...), which fetch never connects
// to. a request line and headers sent there can be read as that protocol's commands (a mail sent
// through port 25 by a URL that a hostile DID document chose), so the transport refuses them as
// fetch does
const BAD_PORTS = new Set([
	1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104,
	109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515,
	526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049,
	3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** whether `url` names a port fetch refuses (a URL without a port uses its scheme's, never bad). */
export const isBadPort = (url: URL): boolean => url.port !== '' && BAD_PORTS.has(Number(url.port));

/**
 * the failure a request to a bad port gets from this package's fetches, on every runtime: a
 * `TypeError('fetch failed')`, as fetch reports it, whose cause names the port and is marked
 * `transient: false`.
 */
export const badPortRefusal = (url: URL): TypeError => {
	// a refusal no retry changes: marked so, or discovery and the client would report it as a
	// network failure worth trying again
	const cause = Object.assign(new Error(`bad port ${url.port}`), { transient: false });
	return new TypeError('fetch failed', { cause });
};
