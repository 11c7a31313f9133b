import { CONSENT_PATH } from './authorization-page.ts';

/** what the simulated user does on the authorization page. */
export interface AuthorizeOptions {
	/** the account to sign in as. */
	did: string;
	/** deny access instead of authorizing. */
	deny?: boolean | undefined;
	/** grant only these scopes (a subset of the requested ones); default all requested. */
	scope?: string | undefined;
}

const HIDDEN_INPUT = /<input type="hidden" name="([^"]*)" value="([^"]*)">/g;

const unescapeHtml = (text: string): string => {
	return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
};

/**
 * plays the user's browser: opens the authorization URL (which must be the server's
 * authorization endpoint), signs in as `did` and consents (or denies), and returns the
 * parameters the server redirects to the client with, whatever the response mode.
 * @throws Error when the authorization page refuses the URL, with the page's reason
 */
export const playAuthorization = async (
	issuer: string,
	authorizationUrl: string | URL,
	options: AuthorizeOptions,
): Promise<URLSearchParams> => {
	const url = new URL(authorizationUrl);
	const endpoint = `${issuer}/oauth/authorize`;
	if (url.origin + url.pathname !== endpoint) {
		throw new Error(`authorization URL ${url.href} is not this server's authorization endpoint ${endpoint}`);
	}

	const page = await fetch(url, { redirect: 'manual' });
	const pageText = await page.text();
	if (page.status !== 200) {
		throw new Error(
			`the authorization page answered ${page.status}: ${pageText.replace(/<[^>]+>/g, ' ').trim()}`,
		);
	}

	const form = new URLSearchParams({
		client_id: url.searchParams.get('client_id') ?? '',
		request_uri: url.searchParams.get('request_uri') ?? '',
		did: options.did,
		decision: options.deny ? 'deny' : 'allow',
	});
	if (options.scope !== undefined) form.set('scope', options.scope);

	const answer = await fetch(issuer + CONSENT_PATH, { method: 'POST', body: form, redirect: 'manual' });
	const answerText = await answer.text();
	if (answer.status === 303) {
		const location = new URL(answer.headers.get('location') ?? '');
		return location.hash.length > 1 ? new URLSearchParams(location.hash.slice(1)) : location.searchParams;
	}
	if (answer.status === 200) {
		// form_post: the parameters are hidden inputs of an auto-submitting form
		const params = new URLSearchParams();
		for (const [, name, value] of answerText.matchAll(HIDDEN_INPUT)) {
			params.append(unescapeHtml(name!), unescapeHtml(value!));
		}
		return params;
	}
	throw new Error(
		`the consent step answered ${answer.status}: ${answerText.replace(/<[^>]+>/g, ' ').trim()}`,
	);
};
