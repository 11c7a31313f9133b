import type { CookieJar } from './cookie-jar.ts';

// the provider's sign-in, consent and account pages are small apps over this JSON API. it is
// internal and unversioned (the consent body went from `sub` to `did` in oauth-provider 0.18): keep
// every detail of it here, and pin the PDS version in runtime/package.json
export const PROVIDER_API_PATH = '/@atproto/oauth-provider/~api';
/** the browser these pages are played in (the provider checks for one). */
export const BROWSER_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) atcute-local-network';

/**
 * the headers a page's own script calls the provider's API with, from `pageUrl` with the cookies
 * in `jar`: a same-origin fetch, its CSRF token repeated from the cookie.
 */
export const providerApiHeaders = (pageUrl: URL, jar: CookieJar): Record<string, string> => ({
	'user-agent': BROWSER_USER_AGENT,
	accept: 'application/json',
	origin: pageUrl.origin,
	// the API finds the authorization request through the page it is called from
	referer: pageUrl.href,
	'sec-fetch-mode': 'same-origin',
	'sec-fetch-site': 'same-origin',
	'sec-fetch-dest': 'empty',
	// double-submit CSRF: the header must repeat the cookie
	'x-csrf-token': jar.get('csrf-token') ?? '',
	cookie: jar.header(),
});
