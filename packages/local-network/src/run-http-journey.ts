import { authorizeWithPassword } from './authorize-with-password.ts';
import { CookieJar } from './internal/cookie-jar.ts';
import { type RawRequestOptions, type RawResponse, rawRequest } from './internal/raw-request.ts';
import type { LocalAccount } from './start-local-network.ts';
import { createStepRecorder, type JourneyStep } from './step-recorder.ts';

/** options for a journey through the example app. */
export interface JourneyOptions {
	/** the app's URL (`running.url`, or the TLS proxy's). */
	appUrl: string;
	/** who signs in. */
	account: LocalAccount;
	/** a line per step. */
	log?: ((line: string) => void) | undefined;
}

/** options for `runHttpJourney`. */
export interface HttpJourneyOptions extends JourneyOptions {
	/** the CA the app's https certificate chains to (`network.tls.ca`). */
	ca?: string | undefined;
	/** host names to reach on 127.0.0.1 (`network.tls.hostnames`). */
	loopbackHosts?: readonly string[] | undefined;
}

/** what a journey saw. */
export interface JourneyResult {
	steps: JourneyStep[];
	/** the handle the protected page showed (from the PDS's `getSession`). */
	handle: string;
	/** the DID it showed. */
	did: string;
}

/** the handle and DID on the example app's protected page. */
export const readProtectedPage = (html: string): { handle: string; did: string } => {
	const handle = /<h1>hello, @([^<]+)<\/h1>/.exec(html)?.[1];
	const did = /<dt>DID<\/dt><dd><code>([^<]+)<\/code>/.exec(html)?.[1];
	if (handle === undefined || did === undefined) throw new Error('the protected page shows no account');
	return { handle, did };
};

/**
 * signs in to the example app, sees the protected page and signs out, with plain HTTP requests
 * and a cookie jar for the browser, and `authorizeWithPassword` on the PDS's sign-in and consent
 * pages. each step is timed.
 */
export const runHttpJourney = async (options: HttpJourneyOptions): Promise<JourneyResult> => {
	const { account } = options;
	const app = new URL(options.appUrl);
	const recorder = createStepRecorder(options.log);
	const jar = new CookieJar();
	const transport: RawRequestOptions = { ca: options.ca, loopbackHosts: options.loopbackHosts };

	const request = async (url: URL | string, init: RawRequestOptions = {}): Promise<RawResponse> => {
		const headers: Record<string, string> = { ...init.headers };
		const cookie = jar.header();
		if (cookie !== '') headers.cookie = cookie;
		const response = await rawRequest(url, { ...transport, ...init, headers });
		jar.store(response.headers);
		return response;
	};
	const expectRedirect = (response: RawResponse, what: string): URL => {
		if (response.status < 300 || response.status > 399 || response.location === undefined) {
			throw new Error(`${what}: expected a redirect, got ${response.status}`);
		}
		return response.location;
	};

	await recorder.run('open the app', async () => {
		const home = await request(new URL('/', app));
		if (home.status !== 200 || !home.body.includes('name="handle"')) {
			throw new Error(`the home page answered ${home.status} without a sign-in form`);
		}
		return `GET ${app.origin}/ → ${home.status}`;
	});

	const authorizeUrl = await recorder.run(
		'start the sign-in (PAR; the PDS fetches the client metadata)',
		async () =>
			expectRedirect(
				await request(new URL('/login', app), {
					method: 'POST',
					headers: { 'content-type': 'application/x-www-form-urlencoded' },
					body: new URLSearchParams({ handle: account.handle }).toString(),
				}),
				'POST /login',
			),
		(url) => `→ ${url.origin}${url.pathname}`,
	);

	const callbackUrl = await recorder.run(
		'sign in and consent on the PDS',
		() => authorizeWithPassword(authorizeUrl, { username: account.handle, password: account.password }),
		(url) => `→ ${url.origin}${url.pathname}`,
	);

	const landing = await recorder.run(
		'callback (code exchange, DPoP, private_key_jwt)',
		async () => expectRedirect(await request(callbackUrl), 'the callback'),
		(url) => `→ ${url.pathname}`,
	);

	const shown = await recorder.run(
		'protected page (a live getSession on the PDS)',
		async () => {
			const page = await request(landing);
			if (page.status !== 200) throw new Error(`the protected page answered ${page.status}`);
			const shown = readProtectedPage(page.body);
			if (shown.handle !== account.handle || shown.did !== account.did) {
				throw new Error(`the protected page shows @${shown.handle} (${shown.did}), not @${account.handle}`);
			}
			return shown;
		},
		(shown) => `@${shown.handle} ${shown.did}`,
	);

	await recorder.run('sign out (tokens revoked)', async () => {
		const out = expectRedirect(await request(new URL('/logout', app), { method: 'POST' }), 'POST /logout');
		return `→ ${out.pathname}`;
	});

	await recorder.run('signed out: the protected page sends us home', async () => {
		const after = expectRedirect(await request(new URL('/protected', app)), 'GET /protected');
		if (after.pathname !== '/') throw new Error(`GET /protected after sign-out went to ${after.pathname}`);
		return '→ /';
	});

	return { steps: recorder.steps, ...shown };
};
