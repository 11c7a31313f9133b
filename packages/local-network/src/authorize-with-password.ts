import { CookieJar } from './internal/cookie-jar.ts';
import { BROWSER_USER_AGENT, PROVIDER_API_PATH, providerApiHeaders } from './internal/provider-api.ts';
import { type RawResponse, rawRequest } from './internal/raw-request.ts';

/** options for `authorizeWithPassword`. */
export interface AuthorizeWithPasswordOptions {
	/** the handle (or email) to sign in with. */
	username: string;
	password: string;
	/** `approve` (default): sign in and consent; `deny`: press "Deny access" instead. */
	decision?: 'approve' | 'deny' | undefined;
	/** approve only these scopes (space-separated); default all that were asked for. */
	scope?: string | undefined;
}

/**
 * plays the browser on the reference PDS's authorization page: opens `authorizeUrl` (what
 * `oauth.authorize()` returned), signs in with the password, consents (or denies), and follows
 * the provider to its redirect. returns the URL the browser would be sent to: the client's
 * redirect URI with `code`, `state` and `iss`, or `error=access_denied`. about 0.5 s, most of it
 * the server's password hashing.
 */
export const authorizeWithPassword = async (
	authorizeUrl: URL | string,
	options: AuthorizeWithPasswordOptions,
): Promise<URL> => {
	const pageUrl = new URL(authorizeUrl);
	const origin = pageUrl.origin;
	const jar = new CookieJar();

	// a top-level navigation: the provider checks the browser's own sec-fetch-* headers
	const page = await rawRequest(pageUrl, {
		headers: {
			'user-agent': BROWSER_USER_AGENT,
			accept: 'text/html',
			'sec-fetch-mode': 'navigate',
			'sec-fetch-dest': 'document',
			'sec-fetch-site': 'cross-site',
		},
	});
	jar.store(page.headers);
	if (page.status !== 200) {
		throw new Error(`the authorization page answered ${page.status}: ${describe(page)}`);
	}

	const api = async (endpoint: string, body: unknown, extraHeaders: Record<string, string> = {}) => {
		const response = await rawRequest(`${origin}${PROVIDER_API_PATH}${endpoint}`, {
			method: 'POST',
			headers: { ...providerApiHeaders(pageUrl, jar), 'content-type': 'application/json', ...extraHeaders },
			body: JSON.stringify(body),
		});
		// sign-in and reject rotate the device cookies
		jar.store(response.headers);
		if (response.status < 200 || response.status > 299) {
			throw new Error(`${endpoint} answered ${response.status}: ${describe(response)}`);
		}
		return JSON.parse(response.body) as Record<string, unknown>;
	};

	let redirectPage: unknown;
	if (options.decision === 'deny') {
		// refusing needs no sign-in: only the request and the CSRF token
		({ url: redirectPage } = await api('/reject', {}));
	} else {
		const signIn = (await api('/sign-in', {
			locale: 'en',
			username: options.username,
			password: options.password,
			remember: true,
		})) as { account?: { did?: string; sub?: string }; ephemeralToken?: string };
		const did = signIn.account?.did ?? signIn.account?.sub;
		if (did === undefined) throw new Error('/sign-in answered without an account');
		const body: Record<string, string> = { did };
		if (options.scope !== undefined) body.scope = options.scope;
		const bearer: Record<string, string> =
			signIn.ephemeralToken === undefined ? {} : { authorization: `Bearer ${signIn.ephemeralToken}` };
		({ url: redirectPage } = await api('/consent', body, bearer));
	}
	if (typeof redirectPage !== 'string') throw new Error('the provider gave no redirect URL');

	// the provider's redirect endpoint answers 303 to the client's redirect URI, as in a browser
	const redirect = await rawRequest(redirectPage, {
		headers: {
			'user-agent': BROWSER_USER_AGENT,
			cookie: jar.header(),
			referer: pageUrl.href,
			'sec-fetch-mode': 'navigate',
			'sec-fetch-dest': 'document',
			'sec-fetch-site': 'same-origin',
		},
	});
	if (redirect.status !== 303 || redirect.location === undefined) {
		throw new Error(`the provider's redirect answered ${redirect.status}: ${describe(redirect)}`);
	}
	return redirect.location;
};

/** a short description of an unexpected response, for an error message (no cookies, no tokens). */
const describe = (response: RawResponse): string => {
	if (response.location !== undefined)
		return `redirect to ${response.location.origin}${response.location.pathname}`;
	const text = response.body.replace(/\s+/g, ' ');
	return text.length > 300 ? `${text.slice(0, 300)}…` : text;
};
