import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import type { Did } from '@atcute/lexicons';
import { isDid, isHandle } from '@atcute/lexicons/syntax';
import {
	AuthMethodUnsatisfiableError,
	IdentityResolutionError,
	LockTimeoutError,
	LockUnavailableError,
	MemoryStore,
	type OAuthClient,
	OAuthTransientError,
	SessionNotFoundError,
	type Store,
	TokenRefreshError,
	UnreadableSessionError,
} from '@atcute/oauth-node-client';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, getSignedCookie, setCookie, setSignedCookie } from 'hono/cookie';
import type { CookieOptions } from 'hono/utils/cookie';

import { callbackFailurePage, type FailurePage, loginFailurePage, shownXrpcError } from './failure-pages.ts';
import { errorPage, homePage, protectedPage } from './views.ts';

/**
 * the cookie that says who is signed in: a random session id, signed with the cookie secret.
 * `__Host-`: browsers take it only from this host, over https, for every path, so a sibling
 * subdomain or a plain-http answer cannot plant one (an attacker's own session, signed in as them).
 */
export const SESSION_COOKIE = '__Host-session';
/** the cookie that ties a sign-in to the browser that started it (login CSRF defence); `__Host-` as above. */
export const LOGIN_COOKIE = '__Host-oauth_login';
/** `SESSION_COOKIE` in loopback mode: plain http on 127.0.0.1 cannot set a `__Host-` cookie. */
export const LOOPBACK_SESSION_COOKIE = 'session';
/**
 * `LOGIN_COOKIE` in loopback mode. it binds a sign-in to a browser only as far as 127.0.0.1 is
 * trusted: browsers do not keep cookies apart by port, so any program serving there can plant one.
 */
export const LOOPBACK_LOGIN_COOKIE = 'oauth_login';

/** how long an app session lives, in seconds: 30 days. the OAuth session may end sooner. */
const SESSION_MAX_AGE = 30 * 24 * 60 * 60;
/** how long a sign-in may take, in seconds: the library's state lives 10 minutes too. */
const LOGIN_COOKIE_MAX_AGE = 10 * 60;
/**
 * the largest form body `POST /login` and `POST /logout` read, in bytes: a handle is at most 253
 * characters. anyone may post, signed in or not, so a body is refused past this before it is read
 * (unbounded, one request of 256 MB took the process past 2.6 GB).
 */
export const FORM_BODY_LIMIT = 4096;
/** sign-ins one browser may have under way at once (tabs), each with its own binding. */
const LOGIN_BINDINGS_MAX = 4;
/** the longest identifier an error page repeats; past it, cut short. */
const ECHO_MAX = 256;
/** the longest path the 404 page repeats: a link's path is anyone's text, shown on this site. */
const PATH_ECHO_MAX = 64;

/** `text` as an error page may repeat it: at most `max` characters, then an ellipsis. */
const echoed = (text: string, max: number = ECHO_MAX): string =>
	text.length > max ? `${text.slice(0, max)}…` : text;
/** where a successful sign-in lands. */
const RETURN_TO = '/protected';

/**
 * an app session, kept server-side under its random id: who is signed in, since and until when.
 * the same store keeps one sign-out record per account (under `signed-out:<did>`, a key no random
 * id can take), whose `signedOutAt` ends every session of that account that began before it.
 */
export interface AppSession {
	did: Did;
	/** milliseconds since the epoch. */
	expiresAt: number;
	/** when the session began, in milliseconds since the epoch (absent in sessions stored before it was kept: as old as can be). */
	startedAt?: number | undefined;
	/** a sign-out record only: when the account was signed out, in milliseconds since the epoch. */
	signedOutAt?: number | undefined;
	/** the `state` of the callback that began this session: a reload of it goes home, not to an error. */
	callbackState?: string | undefined;
}

/** the key of an account's sign-out record: session ids are base64url, so never contain `:`. */
const signedOutKey = (did: Did): string => `signed-out:${did}`;

/** where app sessions are kept, keyed by session id. */
export type AppSessionStore = Store<string, AppSession>;

/** options for `createApp`. */
export interface CreateAppOptions {
	/** the OAuth client (see `createOAuthClient`). */
	oauth: OAuthClient;
	/** the secret the session cookie is signed with (HMAC-SHA256); 32 characters or more. */
	cookieSecret: string;
	/**
	 * where the app's sessions live (session id → DID); default in memory, one process. give it a
	 * shared store (`startServer` uses PostgreSQL with `DATABASE_URL`) when sign-ins must survive
	 * restarts or several processes serve the app.
	 */
	appSessions?: AppSessionStore | undefined;
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

/** where to send the browser after signing in: `value` when it is a path on this site, else `/`. */
export const safeReturnTo = (value: unknown): string => {
	// browsers drop tabs and newlines from a URL and read `\` as `/`: `/\t/evil.example` and
	// `/\evil.example` both mean `//evil.example`. refuse control characters and spaces outright,
	// then resolve it as a browser would and insist the origin did not change (the host here is a
	// stand-in: a path resolves the same way against any http(s) origin)
	if (typeof value !== 'string' || !value.startsWith('/') || /[\p{Cc}\s]/u.test(value)) return '/';
	const here = 'https://app.invalid';
	return new URL(value, here).origin === here ? value : '/';
};

const randomToken = (): string => {
	const bytes = crypto.getRandomValues(new Uint8Array(24));
	return Buffer.from(bytes).toString('base64url');
};

/** what `randomToken()` makes: 24 bytes, 32 base64url characters. */
const RANDOM_TOKEN = /^[A-Za-z0-9_-]{32}$/;

/**
 * the example app: sign in with an atproto account (`/login`, `/oauth/callback`), see it
 * (`/protected`, a live call to the account's PDS) and sign out (`/logout`); serves the client
 * metadata and JWKS the authorization server fetches.
 */
export const createApp = (options: CreateAppOptions): Hono => {
	const { oauth, cookieSecret, publicUrl, loopbackOrigin } = options;
	const appSessions = options.appSessions ?? new MemoryStore<string, AppSession>();
	const logError = options.logError ?? ((message, error) => console.error(message, error));
	if (typeof cookieSecret !== 'string' || cookieSecret.length < 32) {
		throw new TypeError('cookieSecret must be a string of 32 characters or more');
	}

	// the library ends a session here whether or not the authorization server confirmed the
	// revocation, and says so only through this event: a grant that may live on there until it
	// expires is worth a log line. the event holds the DID and the cause, never a token. the app
	// has no close of its own: the listener lives as long as `oauth`, so give each client one app
	oauth.addEventListener((event) => {
		if (event.type !== 'deleted' || event.revokedAtServer !== false) return;
		logError(
			`sign-out of ${event.sub} (${event.cause}): the authorization server did not confirm the revocation; its grant may live on there until it expires`,
			event,
		);
	});

	// https behind a proxy: cookies only travel over https; loopback: plain http on 127.0.0.1
	const secure = publicUrl !== undefined;
	const sessionName = secure ? SESSION_COOKIE : LOOPBACK_SESSION_COOKIE;
	const loginName = secure ? LOGIN_COOKIE : LOOPBACK_LOGIN_COOKIE;
	const sessionCookie: CookieOptions = { httpOnly: true, sameSite: 'Lax', secure, path: '/' };
	// the callback reads it, and POST /login adds a binding to it (one per tab signing in): a
	// narrower path would keep it from /login, and each sign-in would undo the one before
	const loginCookie: CookieOptions = { httpOnly: true, sameSite: 'Lax', secure, path: '/' };

	/** the session id the browser presents, if its signature holds. */
	const sessionId = async (c: Context): Promise<string | undefined> => {
		if (getCookie(c, sessionName) === undefined) return undefined;
		try {
			const value = await getSignedCookie(c, cookieSecret, sessionName);
			// only an id this app made: the store keys other records beside the sessions (an account's
			// `signed-out:<did>`), which a cookie signed with a leaked secret must not reach
			if (typeof value === 'string' && RANDOM_TOKEN.test(value)) return value;
		} catch {}
		return undefined;
	};

	/**
	 * who is signed in, or undefined. the cookie only holds a random id: who it belongs to is kept
	 * here, so a session ends for good when it is deleted (sign-out) or expires, whatever a browser
	 * or a thief kept. a cookie that names no live session is dropped.
	 */
	const currentSession = async (
		c: Context,
	): Promise<{ id: string; did: Did; callbackState: string | undefined } | undefined> => {
		const id = await sessionId(c);
		const session = id === undefined ? undefined : await appSessions.get(id);
		if (id === undefined || session === undefined || session.expiresAt <= Date.now()) {
			// tampered, signed with another secret, signed out or expired: forget it
			if (getCookie(c, sessionName) !== undefined) deleteCookie(c, sessionName, sessionCookie);
			return undefined;
		}
		// the account was signed out (in any browser) after this session began: it is over, and a
		// later sign-in elsewhere must not bring it back (a shared computer, a stolen laptop)
		const signedOut = (await appSessions.get(signedOutKey(session.did)))?.signedOutAt;
		if (signedOut !== undefined && (session.startedAt ?? 0) < signedOut) {
			await endSession(c, id);
			return undefined;
		}
		return { id, did: session.did, callbackState: session.callbackState };
	};

	/**
	 * signs the browser in as `did`, with a new session: never one the browser brought along.
	 * `callbackState`: the state of the callback that signed it in.
	 */
	const startSession = async (c: Context, did: Did, callbackState: string | undefined): Promise<void> => {
		// an earlier session in this browser ends; the new id is unguessable (192 random bits), so
		// nobody can plant one here beforehand and share it (session fixation)
		const previous = await sessionId(c);
		if (previous !== undefined) await appSessions.delete(previous);
		const id = randomToken();
		const startedAt = Date.now();
		const expiresAt = startedAt + SESSION_MAX_AGE * 1000;
		await appSessions.set(id, { did, startedAt, expiresAt, callbackState }, { expiresAt });
		// the signature lets a forged cookie be refused without a store lookup, and rotating
		// COOKIE_SECRET ends every session at once; the id alone is what makes it unguessable
		await setSignedCookie(c, sessionName, id, cookieSecret, { ...sessionCookie, maxAge: SESSION_MAX_AGE });
	};

	/**
	 * ends the browser's session: the server-side entry a copy of the cookie would use, then the
	 * cookie. in that order: a store that fails leaves the cookie, and with it a sign-out button
	 * that works, rather than a browser that looks signed out while a copy still signs in.
	 */
	const endSession = async (c: Context, id: string): Promise<void> => {
		await appSessions.delete(id);
		deleteCookie(c, sessionName, sessionCookie);
	};

	/**
	 * ends the account's sessions in every browser: a sign-out record that outlives them all (a
	 * session lasts SESSION_MAX_AGE at most). each browser's session is checked against it.
	 */
	const endAccount = async (did: Did): Promise<void> => {
		const signedOutAt = Date.now();
		const expiresAt = signedOutAt + SESSION_MAX_AGE * 1000;
		await appSessions.set(signedOutKey(did), { did, signedOutAt, expiresAt }, { expiresAt });
	};

	const page = (c: Context, status: FailurePage['status'] | 421, body: Parameters<typeof errorPage>[0]) => {
		return c.html(errorPage(body), status);
	};

	const failurePage = (c: Context, failure: FailurePage, error: unknown) => {
		if (failure.log) logError(`${c.req.method} ${c.req.path}: ${failure.title}`, error);
		const { status, title, message, code } = failure;
		return page(c, status, { title, message, code });
	};

	/**
	 * the routes that change state (`POST /login`, `POST /logout`) take requests from the app's own
	 * pages only (CSRF). without it, another site could post this app's form with its author's
	 * handle, and the author's authorization server, approving at once, would sign the visitor in
	 * to the author's account (login CSRF); or sign the visitor out. browsers say where a request
	 * comes from: `Sec-Fetch-Site` (every current browser), else `Origin` (sent with every POST).
	 * a request with neither is from no browser (curl, a script): it carries no visitor's cookies
	 * and is let through, as Go's `http.CrossOriginProtection` does.
	 */
	const sameOriginOnly: MiddlewareHandler = async (c, next) => {
		const site = c.req.header('sec-fetch-site');
		const origin = c.req.header('origin');
		// the origin the browser saw: behind a proxy the request's own URL has the internal one
		const ours = publicUrl ?? loopbackOrigin ?? new URL(c.req.url).origin;
		const allowed = site !== undefined ? site === 'same-origin' : origin === undefined || origin === ours;
		if (!allowed) {
			return page(c, 403, {
				title: 'request refused',
				message: 'this form was sent from another site. to sign in or out, use the buttons on this site.',
				code: 'cross_site_request',
			});
		}
		await next();
	};

	/** refuses a form body past `FORM_BODY_LIMIT` with a 413 page, before it is read. */
	const smallFormOnly = bodyLimit({
		maxSize: FORM_BODY_LIMIT,
		onError: (c) =>
			page(c, 413, {
				title: 'form too large',
				message: 'that form was larger than this page ever sends. type your handle and try again.',
				code: 'form_too_large',
			}),
	});

	/** the form's fields, or undefined when the body is not a form that can be read. */
	const readForm = async (c: Context): Promise<Record<string, unknown> | undefined> => {
		try {
			return await c.req.parseBody();
		} catch {
			// a malformed multipart body (no boundary, cut short): the sender's fault, not ours
			return undefined;
		}
	};

	/** the sign-ins this browser started (their state ids): one per sign-in under way, newest last. */
	const loginBindings = (c: Context): string[] => {
		const value = getCookie(c, loginName);
		return value === undefined ? [] : value.split('.').filter((binding) => binding !== '');
	};

	/** keeps `bindings` in the login cookie, or deletes it when none is left. */
	const keepLoginBindings = (c: Context, bindings: string[]): void => {
		if (bindings.length === 0) deleteCookie(c, loginName, loginCookie);
		else setCookie(c, loginName, bindings.join('.'), { ...loginCookie, maxAge: LOGIN_COOKIE_MAX_AGE });
	};

	const app = new Hono();

	// loopback mode: visitors who came through `localhost` go to the same path on 127.0.0.1. only
	// the host changes: resolving the path against the origin instead would take `//evil.example/x`
	// to evil.example (an open redirect)
	const loopbackHost = loopbackOrigin === undefined ? undefined : new URL(loopbackOrigin).host;
	app.use(async (c, next) => {
		const url = new URL(c.req.url);
		if (loopbackHost !== undefined && url.hostname === 'localhost') {
			url.host = loopbackHost;
			return c.redirect(url.href);
		}
		await next();
		// pages carry who is signed in: never cache them (the two public JSON documents may be);
		// no scripts, no framing, no referrer to other sites (the callback URL holds a one-time
		// code). same-origin, not no-referrer: under no-referrer a browser sends `Origin: null`
		// with the app's own form posts, which sameOriginOnly must then refuse where there is no
		// Sec-Fetch-Site (older browsers, proxies that strip it): no sign-in, no sign-out
		if (!c.res.headers.get('content-type')?.startsWith('application/json')) {
			c.header('cache-control', 'no-store');
		}
		c.header('referrer-policy', 'same-origin');
		c.header('x-content-type-options', 'nosniff');
		c.header(
			'content-security-policy',
			"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
		);
	});

	// loopback mode: only the app's own origin is served. a name someone's DNS points at 127.0.0.1
	// (DNS rebinding) makes their page same-origin with what it fetches here: past sameOriginOnly,
	// it could start sign-ins (the server fetching what the identifier names) and read the answers
	if (loopbackHost !== undefined) {
		app.use(async (c, next) => {
			if (new URL(c.req.url).host !== loopbackHost) {
				return page(c, 421, {
					title: 'wrong address',
					message: 'this app answers on its own address only.',
					code: 'misdirected_request',
				});
			}
			await next();
		});
	}

	app.onError((error, c) => {
		logError(`${c.req.method} ${c.req.path} failed:`, error);
		return page(c, 500, {
			title: 'something went wrong',
			message: 'the server ran into an unexpected error. it has been logged; please try again.',
		});
	});

	app.notFound((c) =>
		page(c, 404, {
			title: 'not found',
			message: `there is nothing at ${echoed(c.req.path, PATH_ECHO_MAX)}.`,
		}),
	);

	// the authorization server fetches these from the URLs the metadata advertises
	app.get('/oauth-client-metadata.json', (c) => c.json(oauth.metadata));
	if (oauth.jwks !== undefined) {
		app.get('/jwks.json', (c) => c.json(oauth.jwks));
	}

	app.get('/', async (c) => c.html(homePage({ did: (await currentSession(c))?.did })));

	// POST only, from the home page's form: a link or an image cannot start a sign-in
	app.post('/login', sameOriginOnly, smallFormOnly, async (c) => {
		const form = await readForm(c);
		if (form === undefined) {
			return page(c, 400, {
				title: 'that form could not be read',
				message: 'the sign-in form arrived damaged. go back to the home page and try again.',
				code: 'invalid_form',
			});
		}
		const raw = form.handle;
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
				message: `“${echoed(identifier)}” is not a valid handle or DID. a handle looks like alice.bsky.social.`,
				code: 'invalid_handle',
			});
		}

		let url: URL;
		let stateId: string;
		try {
			({ url, stateId } = await oauth.authorize({
				target: { type: 'account', identifier },
				state: { returnTo: RETURN_TO },
			}));
		} catch (error) {
			// a DID passes the syntax check at any length: the page repeats it cut short all the same
			const failure = loginFailurePage(error, echoed(identifier));
			if (failure === undefined) throw error;
			return failurePage(c, failure, error);
		}

		// the sign-in's state id, kept in this browser: the callback only takes a state this browser
		// started (RFC 6749 §10.12), beside those under way in other tabs (the oldest dropped past the limit)
		keepLoginBindings(c, [...loginBindings(c), stateId].slice(-LOGIN_BINDINGS_MAX));
		return c.redirect(url.toString());
	});

	app.get('/oauth/callback', async (c) => {
		// Hono answers HEAD with the GET route: a HEAD (a link checker, a prefetch) must not spend the
		// one-time code or sign anyone in; only a browser's GET completes a sign-in
		if (c.req.method === 'HEAD') return c.body(null, 405, { allow: 'GET' });
		const requestUrl = new URL(c.req.url);
		// behind a reverse proxy the request URL carries the internal origin; the callback the
		// authorization server redirected to is this path under the public one
		const callbackUrl =
			publicUrl === undefined ? requestUrl : new URL(requestUrl.pathname + requestUrl.search, publicUrl);
		// the cookie is left alone until a state matches: a stray or forged callback (a link from
		// another site, say) must not cancel a sign-in under way in this browser
		const bindings = loginBindings(c);
		const stateId = callbackUrl.searchParams.get('state');

		if (stateId === null || !bindings.includes(stateId)) {
			// a reload of the callback that signed this browser in (its binding is spent): the visitor
			// is signed in by it, so home rather than an error page
			if (stateId !== null && (await currentSession(c))?.callbackState === stateId) return c.redirect('/');
			// a sign-in this browser did not start (a forged or leaked callback link, or an expired
			// cookie), checked before the library takes the state: the code is not exchanged, nothing
			// is stored, and the browser that started it can still complete it (RFC 6749 §10.12)
			return page(c, 400, {
				title: 'sign-in not completed',
				message:
					'this sign-in was not started from this browser (or its cookie expired). start again from the home page.',
				code: 'browser_mismatch',
			});
		}

		let result: Awaited<ReturnType<OAuthClient['callback']>>;
		try {
			result = await oauth.callback(callbackUrl.searchParams);
		} catch (error) {
			const failure = callbackFailurePage(error);
			if (failure === undefined) throw error;
			return failurePage(c, failure, error);
		}
		const appState = result.state as { returnTo?: string } | undefined;

		// this sign-in is done; the others under way keep their bindings
		keepLoginBindings(
			c,
			bindings.filter((binding) => binding !== stateId),
		);
		// the cookie gets a random session id; the DID stays here and the tokens in the OAuth store
		await startSession(c, result.session.did, stateId);
		return c.redirect(safeReturnTo(appState?.returnTo));
	});

	app.get('/protected', async (c) => {
		const current = await currentSession(c);
		if (current === undefined) return c.redirect('/');
		const { did } = current;

		try {
			const session = await oauth.restore(did);
			const client = new Client({ handler: session });
			// a live call to the account's PDS, with the DPoP-bound access token
			const response = await client.get('com.atproto.server.getSession', {});
			if (!response.ok) {
				return page(c, 502, {
					title: 'your PDS said no',
					message: 'your PDS refused to say who you are.',
					// anyone's PDS writes this: shown only when it looks like an XRPC error name
					code: shownXrpcError(response.data.error),
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
				// the session is gone (signed out elsewhere, revoked, expired): sign in again. where the
				// library ended it just now, every browser's session of the account ends with it (a
				// session ended elsewhere was marked there)
				await endSession(c, current.id);
				if (!(error instanceof SessionNotFoundError)) await endAccount(did);
				return c.redirect('/');
			}
			if (
				error instanceof OAuthTransientError ||
				error instanceof LockTimeoutError ||
				(error instanceof LockUnavailableError && error.transient)
			) {
				// a passing failure: the session is kept. when the authorization server said how long to
				// wait (its Retry-After, which the client also keeps to), the browser is told the same
				const waitMs = error instanceof OAuthTransientError ? error.retryAfterMs : undefined;
				// whole seconds, rounded up: the browser is never told to come back before the wait ends
				const waitS = waitMs ? Math.ceil(waitMs / 1000) : undefined;
				if (waitS !== undefined) c.header('retry-after', String(waitS));
				return page(c, 503, {
					title: 'try again in a moment',
					message:
						waitS === undefined
							? 'your PDS or its authorization server could not be reached just now.'
							: `your authorization server asked to wait ${waitS} s before trying again.`,
				});
			}
			if (error instanceof IdentityResolutionError) {
				// the account's identity could not be read back (its DID document refused or missing):
				// one such answer (a CDN's 403, a host mid-deploy) is no proof the account is gone, and
				// ending the grant cannot be undone. the session is kept; the user can sign out
				logError(`session of ${did}`, error);
				return page(c, 503, {
					title: error.transient ? 'try again in a moment' : 'your account could not be checked',
					message: error.transient
						? "your account's identity could not be checked just now."
						: "your account's identity could not be read (its DID document is missing or not valid). if this lasts, sign out and sign in again.",
				});
			}
			if (error instanceof UnreadableSessionError) {
				// a stored session the library cannot use: the library keeps it (it is not its call to
				// end), so this app ends it, and the user signs in again
				logError(`session of ${did}`, error);
				await endSession(c, current.id);
				await endAccount(did);
				await oauth.revoke(did).catch((revokeError: unknown) => logError(`sign-out of ${did}`, revokeError));
				return c.redirect('/');
			}
			throw error;
		}
	});

	app.post('/logout', sameOriginOnly, smallFormOnly, async (c) => {
		const current = await currentSession(c);
		if (current !== undefined) {
			// the grant first, whatever happens to the app's own records after: revokes the tokens at
			// the server (best effort: a refusal reaches logError through the listener above) and
			// always deletes the stored session
			try {
				await oauth.revoke(current.did);
			} catch (error) {
				logError(`sign-out of ${current.did}`, error);
			}
			// the account's sessions in other browsers end too, as the home page says; then this
			// one's id is deleted server-side (a copy of the cookie signs no one in any more), and
			// only then its cookie: a store that fails here leaves the browser signed in to retry
			await endAccount(current.did);
			await endSession(c, current.id);
		}
		return c.redirect('/', 303);
	});

	return app;
};
