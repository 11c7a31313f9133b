import type { LocalAccount, LocalNetwork } from '../src/index.ts';
import { CookieJar } from '../src/internal/cookie-jar.ts';
import { BROWSER_USER_AGENT, PROVIDER_API_PATH, providerApiHeaders } from '../src/internal/provider-api.ts';
import { rawRequest } from '../src/internal/raw-request.ts';

/** one of the account's OAuth sessions as its account page lists it. */
export interface AccountPageSession {
	tokenId: string;
	clientId: string;
	active: boolean;
}

/** the user on the PDS's account page, signed in there with the password (remembered on that device). */
export interface AccountPage {
	/** the account's OAuth sessions (grants) the server holds, of every client. */
	sessions(): Promise<AccountPageSession[]>;
	/** "revoke" on one of them: the server deletes the grant. */
	revoke(tokenId: string): Promise<void>;
}

/** opens the account page of `account` on the network's PDS and signs in there. */
export const openAccountPage = async (network: LocalNetwork, account: LocalAccount): Promise<AccountPage> => {
	const origin = new URL(network.issuer).origin;
	const pageUrl = new URL('/account', origin);
	const jar = new CookieJar();
	const page = await rawRequest(pageUrl, {
		headers: {
			'user-agent': BROWSER_USER_AGENT,
			accept: 'text/html',
			'sec-fetch-mode': 'navigate',
			'sec-fetch-dest': 'document',
			'sec-fetch-site': 'none',
		},
	});
	jar.store(page.headers);
	if (page.status !== 200) throw new Error(`the account page answered ${page.status}`);

	const api = async (method: 'GET' | 'POST', endpoint: string, input: Record<string, unknown>) => {
		const query = method === 'GET' ? `?${new URLSearchParams(input as Record<string, string>)}` : '';
		const response = await rawRequest(`${origin}${PROVIDER_API_PATH}${endpoint}${query}`, {
			method,
			headers: {
				...providerApiHeaders(pageUrl, jar),
				...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
			},
			...(method === 'POST' ? { body: JSON.stringify(input) } : {}),
		});
		jar.store(response.headers);
		if (response.status < 200 || response.status > 299) {
			throw new Error(`${endpoint} answered ${response.status}: ${response.body.slice(0, 200)}`);
		}
		return JSON.parse(response.body) as unknown;
	};

	// remembered: the device's session is what authenticates the calls below
	await api('POST', '/sign-in', {
		locale: 'en',
		username: account.handle,
		password: account.password,
		remember: true,
	});
	return {
		sessions: async () => (await api('GET', '/oauth-sessions', { did: account.did })) as AccountPageSession[],
		revoke: async (tokenId) => {
			await api('POST', '/revoke-oauth-session', { did: account.did, tokenId });
		},
	};
};
