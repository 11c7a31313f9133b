let accepted: boolean | undefined;

/**
 * whether this runtime's `fetch` accepts `cache: 'no-cache'`, which `@atcute/identity-resolver`
 * sends when asked for `noCache`. checked once, by building a `Request` with it (no request is
 * made): workerd rejects the option before compatibility date 2025-08-07 ("Unsupported cache
 * mode", and "not implemented" before 2024-11-11), where asking for it would fail every
 * resolution. where it is rejected, the resolver fetches without it: still a fresh request (no
 * resolver here keeps its own cache), only without overriding an HTTP cache on the way.
 * @see https://developers.cloudflare.com/workers/configuration/compatibility-flags/#enable-cache-no-cache
 */
export const fetchAcceptsNoCache = (): boolean => {
	if (accepted === undefined) {
		try {
			new Request('http://localhost/', { cache: 'no-cache' });
			accepted = true;
		} catch {
			accepted = false;
		}
	}
	return accepted;
};
