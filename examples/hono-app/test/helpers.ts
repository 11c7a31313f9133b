import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Did } from '@atcute/lexicons';
import {
	createNodeFetch,
	exportJwkKey,
	generatePrivateKey,
	MemoryStore,
	type OAuthClient,
	type StoredSession,
} from '@atcute/oauth-node-client';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

import {
	type CreateAppOptions,
	type CreateOAuthClientOptions,
	createApp,
	createOAuthClient,
} from '../src/index.ts';

/** the public origin the tests pretend the app is served under (behind a proxy or tunnel). */
export const PUBLIC_URL = 'https://app.example.com';
export const COOKIE_SECRET = 'test-cookie-secret-with-32-chars-or-more';

/** a generated private key as `PRIVATE_KEY_JWK` holds it. */
export const generatePrivateKeyJwk = async (): Promise<string> => {
	return JSON.stringify(await exportJwkKey(await generatePrivateKey('main', 'ES256')));
};

/** the client options that point the app at the local test server. */
export const localServerOptions = (server: TestOAuthServer): CreateOAuthClientOptions => ({
	allowHttp: true,
	plcUrl: server.plcUrl,
	handleResolverUrl: server.pdsUrl,
});

/**
 * a browser's cookies, enough for one site: set from `Set-Cookie`, sent as `Cookie` to the paths
 * each was set for (RFC 6265 §5.1.4), as a browser does: a cookie kept from a path a route is not
 * under must not reach that route in a test either.
 */
export class CookieJar {
	// by name, then path: one name may be set for two paths
	readonly #cookies = new Map<string, Map<string, string>>();

	/** keeps the cookies a response sets (and forgets those it clears). */
	store(response: Response): void {
		for (const line of response.headers.getSetCookie()) {
			const [pair = '', ...attributes] = line.split(';');
			const eq = pair.indexOf('=');
			const name = pair.slice(0, eq).trim();
			const value = pair.slice(eq + 1).trim();
			const path =
				attributes.map((attribute) => /^\s*path=(.*)$/i.exec(attribute)?.[1]?.trim()).find(Boolean) ?? '/';
			const cleared = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute)) || value === '';
			const paths = this.#cookies.get(name) ?? new Map<string, string>();
			if (cleared) paths.delete(path);
			else paths.set(path, value);
			if (paths.size === 0) this.#cookies.delete(name);
			else this.#cookies.set(name, paths);
		}
	}

	/** the value of `name`, for whichever path it was set. */
	get(name: string): string | undefined {
		const paths = this.#cookies.get(name);
		return paths === undefined ? undefined : [...paths.values()].at(-1);
	}

	set(name: string, value: string): void {
		this.#cookies.set(name, new Map([['/', value]]));
	}

	/** the `Cookie` header for a request to `requestPath`. */
	header(requestPath = '/'): string {
		const sent: string[] = [];
		for (const [name, paths] of this.#cookies) {
			for (const [path, value] of paths) {
				const under = path.endsWith('/') ? path : `${path}/`;
				if (requestPath === path || requestPath.startsWith(under)) sent.push(`${name}=${value}`);
			}
		}
		return sent.join('; ');
	}
}

/** a browser on the app: `app.request` with cookies carried between requests. */
export interface Browser {
	jar: CookieJar;
	request(path: string, init?: RequestInit): Promise<Response>;
}

export const browser = (app: Hono, jar: CookieJar = new CookieJar()): Browser => ({
	jar,
	async request(path, init = {}) {
		const headers = new Headers(init.headers);
		const cookie = jar.header(new URL(path, 'http://app.test').pathname);
		if (cookie !== '') headers.set('cookie', cookie);
		const response = await app.request(path, { ...init, headers });
		jar.store(response);
		return response;
	},
});

/** the app as a confidential client against the local test server. */
export interface Harness {
	server: TestOAuthServer;
	oauth: OAuthClient;
	app: Hono;
	/** the OAuth client's session store, to look at (and damage) what it keeps. */
	sessions: MemoryStore<Did, StoredSession>;
	alice: { did: Did; handle: string };
	errors: unknown[];
	/** the lines the app logged, each beside its error (what `errors` holds). */
	messages: string[];
	close(): Promise<void>;
}

/**
 * starts the test server and the app as a confidential client. the authorization server fetches
 * the JWKS from the metadata's `jwks_uri`: the app is also served on 127.0.0.1 and the registered
 * document points there, so the keys it checks assertions with come from the app's own route.
 */
export const startHarness = async (
	options: {
		/** wraps the client's fetch (given the test server), to play a failing server. */
		wrapFetch?: (fetch: typeof globalThis.fetch, server: TestOAuthServer) => typeof globalThis.fetch;
		/** the app's own session store. */
		appSessions?: CreateAppOptions['appSessions'];
	} = {},
): Promise<Harness> => {
	const server = await startTestOAuthServer();
	const alice = server.createAccount({ handle: 'alice.test' }) as { did: Did; handle: string };
	const sessions = new MemoryStore<Did, StoredSession>();
	const oauth = await createOAuthClient({
		publicUrl: PUBLIC_URL,
		privateKeyJwk: await generatePrivateKeyJwk(),
		...localServerOptions(server),
		// the transport the app makes by default (for the client and its resolvers), wrapped
		...(options.wrapFetch
			? { fetch: options.wrapFetch(createNodeFetch({ allowPrivateNetwork: true }), server) }
			: {}),
		stores: { sessions, states: new MemoryStore() },
	});
	const errors: unknown[] = [];
	const messages: string[] = [];
	const app = createApp({
		oauth,
		cookieSecret: COOKIE_SECRET,
		publicUrl: PUBLIC_URL,
		appSessions: options.appSessions,
		logError: (message, error) => {
			messages.push(message);
			errors.push(error);
		},
	});

	const http = await new Promise<Server>((resolve) => {
		const listening = serve(
			{ fetch: app.fetch, hostname: '127.0.0.1', port: 0, overrideGlobalObjects: false },
			() => resolve(listening as Server),
		);
	});
	const { port } = http.address() as AddressInfo;
	server.registerClient({ ...oauth.metadata, jwks_uri: `http://127.0.0.1:${port}/jwks.json` });

	return {
		server,
		oauth,
		app,
		sessions,
		alice,
		errors,
		messages,
		async close() {
			http.closeAllConnections();
			await new Promise((resolve) => http.close(resolve));
			await server.close();
		},
	};
};

/** the `Location` of a redirect, checked to be one. */
export const locationOf = (response: Response): string => {
	if (response.status < 300 || response.status > 399) {
		throw new Error(`expected a redirect, got ${response.status}`);
	}
	return response.headers.get('location') ?? '';
};

/** what a browser says about a request sent from one of the app's own pages. */
export const SAME_ORIGIN: Readonly<Record<string, string>> = { 'sec-fetch-site': 'same-origin' };

/** what a browser says about a request that a page of another site sent (a form, a script). */
export const CROSS_SITE: Readonly<Record<string, string>> = {
	'sec-fetch-site': 'cross-site',
	origin: 'https://evil.example',
};

/** posts a form, by default as the app's own pages do (`<form method="post">` on the app). */
export const postForm = (
	user: Browser,
	path: string,
	fields: Record<string, string> = {},
	headers: Readonly<Record<string, string>> = SAME_ORIGIN,
): Promise<Response> => {
	return user.request(path, { method: 'POST', body: new URLSearchParams(fields), headers });
};

/** runs the sign-in to the callback's parameters: /login, then the authorization page. */
export const authorizeAt = async (
	harness: Harness,
	user: Browser,
	options: { deny?: boolean; handle?: string } = {},
): Promise<URLSearchParams> => {
	const login = await postForm(user, '/login', { handle: options.handle ?? harness.alice.handle });
	const location = locationOf(login);
	return harness.server.authorize(location, {
		did: harness.alice.did,
		...(options.deny ? { deny: true } : {}),
	});
};

/** signs alice in through the app; returns the callback response. */
export const signIn = async (harness: Harness, user: Browser): Promise<Response> => {
	const params = await authorizeAt(harness, user);
	return user.request(`/oauth/callback?${params}`);
};
