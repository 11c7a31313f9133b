import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import type { Did } from '@atcute/lexicons';
import { isDid, isHandle } from '@atcute/lexicons/syntax';
import {
	AuthMethodUnsatisfiableError,
	LockTimeoutError,
	type OAuthClient,
	OAuthTransientError,
	SessionNotFoundError,
	TokenRefreshError,
} from '@atcute/oauth-node-client';
import { type Context, Hono } from 'hono';
import { deleteCookie, getCookie, getSignedCookie, setCookie, setSignedCookie } from 'hono/cookie';
import type { CookieOptions } from 'hono/utils/cookie';

import { callbackFailurePage, type FailurePage, loginFailurePage } from './failure-pages.ts';
import { errorPage, homePage, protectedPage } from './views.ts';

/** the cookie that says who is signed in: their DID, signed with the cookie secret. */
export const SESSION_COOKIE = 'did';
/** the cookie that ties a sign-in to the browser that started it (login CSRF defence). */
export const LOGIN_COOKIE = 'oauth_login';

/** how long the session cookie lives, in seconds: 30 days. the OAuth session may end sooner. */
const SESSION_COOKIE_MAX_AGE = 30 * 24 * 60 * 60;
/** how long a sign-in may take, in seconds: the library's state lives 10 minutes too. */
const LOGIN_COOKIE_MAX_AGE = 10 * 60;
/** where a successful sign-in lands. */
const RETURN_TO = '/protected';

/** options for `createApp`. */
export interface CreateAppOptions {
	/** the OAuth client (see `createOAuthClient`). */
	oauth: OAuthClient;
	/** the secret the session cookie is signed with (HMAC-SHA256); 32 characters or more. */
	cookieSecret: string;
	/**
	 * the public origin (`PUBLIC_URL`) when the app runs behind a reverse proxy or tunnel: the
	 * callback URL is rebuilt on it, and cookies are marked `Secure`. absent: a loopback client,
	 * served over plain http on 127.0.0.1.
	 */
	publicUrl?: string | undefined;
	/**
	 * loopback mode only: the origin the app is served on (`http://127.0.0.1:<port>`). visitors
	 * who came through `localhost` are sent there, so their cookies survive the redirect back
	 * from the authorization server, which only knows 127.0.0.1.
	 */
	loopbackOrigin?: string | undefined;
	/** where unexpected errors go; default `console.error`. */
	logError?: ((message: string, error: unknown) => void) | undefined;
}

const safeReturnTo = (value: unknown): string => {
	// only paths on this site: never `//evil.example` or `/\evil.example`
	return typeof value === 'string' && /^\/(?![/\\])/.test(value) ? value : '/';
};

const randomToken = (): string => {
	const bytes = crypto.getRandomValues(new Uint8Array(24));
	return Buffer.from(bytes).toString('base64url');
};

/**
 * the example app: sign in with an atproto account (`/login`, `/oauth/callback`), see it
 * (`/protected`, a live call to the account's PDS) and sign out (`/logout`); serves the client
 * metadata and JWKS the authorization server fetches.
 */
export const createApp = (options: CreateAppOptions): Hono => {
	const { oauth, cookieSecret, publicUrl, loopbackOrigin } = options;
	const logError = options.logError ?? ((message, error) => console.error(message, error));
	if (typeof cookieSecret !== 'string' || cookieSecret.length < 32) {
		throw new TypeError('cookieSecret must be a string of 32 characters or more');
	}

	// https behind a proxy: cookies only travel over https; loopback: plain http on 127.0.0.1
	const secure = publicUrl !== undefined;
	const sessionCookie: CookieOptions = { httpOnly: true, sameSite: 'Lax', secure, path: '/' };
	// only the callback reads it
	const loginCookie: CookieOptions = { httpOnly: true, sameSite: 'Lax', secure, path: '/oauth/callback' };

	/** the signed-in DID, or undefined; a cookie that fails its signature is dropped. */
	const signedInDid = async (c: Context): Promise<Did | undefined> => {
		if (getCookie(c, SESSION_COOKIE) === undefined) return undefined;
		let value: string | false | undefined;
		try {
			value = await getSignedCookie(c, cookieSecret, SESSION_COOKIE);
		} catch {
			value = false;
		}
		if (typeof value === 'string' && isDid(value)) return value;
		// tampered, forged with another secret, or not ours: forget it
		deleteCookie(c, SESSION_COOKIE, sessionCookie);
		return undefined;
	};

	const page = (c: Context, status: FailurePage['status'], body: Parameters<typeof errorPage>[0]) => {
		return c.html(errorPage(body), status);
	};

	const failurePage = (c: Context, failure: FailurePage, error: unknown) => {
		if (failure.log) logError(`${c.req.method} ${c.req.path}: ${failure.title}`, error);
		const { status, title, message, code } = failure;
		return page(c, status, { title, message, code });
	};

	const app = new Hono();

	app.use(async (c, next) => {
		if (loopbackOrigin !== undefined) {
			const url = new URL(c.req.url);
			if (url.hostname === 'localhost') {
				return c.redirect(new URL(url.pathname + url.search, loopbackOrigin).href);
			}
		}
		await next();
		// pages carry who is signed in: never cache them (the two public JSON documents may be);
		// no scripts, no framing, no referrer (the callback URL holds a one-time code)
		if (!c.res.headers.get('content-type')?.startsWith('application/json')) {
			c.header('cache-control', 'no-store');
		}
		c.header('referrer-policy', 'no-referrer');
		c.header('x-content-type-options', 'nosniff');
		c.header(
			'content-security-policy',
			"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
		);
	});

	app.onError((error, c) => {
		logError(`${c.req.method} ${c.req.path} failed:`, error);
		return page(c, 500, {
			title: 'something went wrong',
			message: 'the server ran into an unexpected error. it has been logged; please try again.',
		});
	});

	app.notFound((c) => page(c, 404, { title: 'not found', message: `there is nothing at ${c.req.path}.` }));

	// the authorization server fetches these from the URLs the metadata advertises
	app.get('/oauth-client-metadata.json', (c) => c.json(oauth.metadata));
	if (oauth.jwks !== undefined) {
		app.get('/jwks.json', (c) => c.json(oauth.jwks));
	}

	app.get('/', async (c) => c.html(homePage({ did: await signedInDid(c) })));

	app.on(['GET', 'POST'], '/login', async (c) => {
		const raw = c.req.method === 'POST' ? (await c.req.parseBody()).handle : c.req.query('handle');
		const identifier = typeof raw === 'string' ? raw.trim().replace(/^@/, '') : '';
		if (identifier === '') {
			return page(c, 400, {
				title: 'enter your handle',
				message: 'type your handle (like alice.bsky.social) or your DID to sign in.',
			});
		}
		if (!isHandle(identifier) && !isDid(identifier)) {
			return page(c, 400, {
				title: 'that is not a handle',
				message: `“${identifier}” is not a valid handle or DID. a handle looks like alice.bsky.social.`,
				code: 'invalid_handle',
			});
		}

		// a random value kept both in this browser and in the server-side state: the callback
		// only signs in the browser that started the sign-in (RFC 6749 §10.12)
		const binding = randomToken();
		let url: URL;
		try {
			({ url } = await oauth.authorize({
				target: { type: 'account', identifier },
				state: { returnTo: RETURN_TO, binding },
			}));
		} catch (error) {
			const failure = loginFailurePage(error, identifier);
			if (failure === undefined) throw error;
			return failurePage(c, failure, error);
		}

		setCookie(c, LOGIN_COOKIE, binding, { ...loginCookie, maxAge: LOGIN_COOKIE_MAX_AGE });
		return c.redirect(url.toString());
	});

	app.get('/oauth/callback', async (c) => {
		const requestUrl = new URL(c.req.url);
		// behind a reverse proxy the request URL carries the internal origin; the callback the
		// authorization server redirected to is this path under the public one
		const callbackUrl =
			publicUrl === undefined ? requestUrl : new URL(requestUrl.pathname + requestUrl.search, publicUrl);
		const expectedBinding = getCookie(c, LOGIN_COOKIE);
		deleteCookie(c, LOGIN_COOKIE, loginCookie);

		let result: Awaited<ReturnType<OAuthClient['callback']>>;
		try {
			result = await oauth.callback(callbackUrl.searchParams);
		} catch (error) {
			const failure = callbackFailurePage(error);
			if (failure === undefined) throw error;
			return failurePage(c, failure, error);
		}
		const { session, state } = result;
		const appState = state as { returnTo?: string; binding?: string } | undefined;

		if (appState?.binding === undefined || appState.binding !== expectedBinding) {
			// someone else's sign-in finished in this browser (a forged callback link): undo it
			await session.signOut().catch((error: unknown) => logError('sign-out after a foreign callback', error));
			return page(c, 400, {
				title: 'sign-in not completed',
				message:
					'this sign-in was not started from this browser (or its cookie expired). start again from the home page.',
				code: 'browser_mismatch',
			});
		}

		// only the DID goes into the cookie: the tokens stay in the session store
		await setSignedCookie(c, SESSION_COOKIE, session.did, cookieSecret, {
			...sessionCookie,
			maxAge: SESSION_COOKIE_MAX_AGE,
		});
		return c.redirect(safeReturnTo(appState.returnTo));
	});

	app.get('/protected', async (c) => {
		const did = await signedInDid(c);
		if (did === undefined) return c.redirect('/');

		try {
			const session = await oauth.restore(did);
			const client = new Client({ handler: session });
			// a live call to the account's PDS, with the DPoP-bound access token
			const response = await client.get('com.atproto.server.getSession', {});
			if (!response.ok) {
				return page(c, 502, {
					title: 'your PDS said no',
					message: 'your PDS refused to say who you are.',
					code: response.data.error,
				});
			}
			const { aud, scope } = session.getTokenInfo();
			return c.html(protectedPage({ handle: response.data.handle, did: response.data.did, pds: aud, scope }));
		} catch (error) {
			if (
				error instanceof SessionNotFoundError ||
				error instanceof TokenRefreshError ||
				error instanceof AuthMethodUnsatisfiableError
			) {
				// the session is gone (signed out elsewhere, revoked, expired): sign in again
				deleteCookie(c, SESSION_COOKIE, sessionCookie);
				return c.redirect('/');
			}
			if (error instanceof OAuthTransientError || error instanceof LockTimeoutError) {
				// a passing failure: the session is kept
				return page(c, 503, {
					title: 'try again in a moment',
					message: 'your PDS or its authorization server could not be reached just now.',
				});
			}
			throw error;
		}
	});

	app.post('/logout', async (c) => {
		const did = await signedInDid(c);
		deleteCookie(c, SESSION_COOKIE, sessionCookie);
		if (did !== undefined) {
			try {
				// revokes the tokens at the server (best effort) and always deletes the stored session
				await oauth.revoke(did);
			} catch (error) {
				logError(`sign-out of ${did}`, error);
			}
		}
		return c.redirect('/', 303);
	});

	return app;
};
