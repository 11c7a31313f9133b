import { once } from 'node:events';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import { LocalActorResolver, PlcDidDocumentResolver, XrpcHandleResolver } from '@atcute/identity-resolver';
import {
	type CallbackResult,
	generatePrivateKey,
	MemoryStore,
	OAuthClient,
	type OAuthClientOptions,
	type OAuthSessionEvent,
	type PrivateKey,
	type SessionStore,
	type StateStore,
	type StoredSession,
	scope,
} from '@atcute/oauth-node-client';

import {
	type AuthorizeWithPasswordOptions,
	authorizeWithPassword,
	type LocalAccount,
	type LocalNetwork,
	type TlsMaterial,
} from '../src/index.ts';
import { rawRequest } from '../src/internal/raw-request.ts';

/** how long a network gets to start (about 3 s; more on a loaded 2-core machine). */
export const START_TIMEOUT_MS = 90_000;
/** a test's time limit: a few sign-ins at about 0.5-1 s each. */
export const TEST_TIMEOUT_MS = 60_000;

/**
 * the client whose documents are served: its metadata and public JWKS. our `OAuthClient` is one;
 * another client (the official `@atproto/oauth-client-node`, say) is given as `{ metadata, jwks }`.
 */
export interface ServedClient {
	readonly metadata: object;
	readonly jwks?: object | undefined;
}

/** a confidential client's documents, served over https on 127.0.0.1 as `tls.hostnames[0]`. */
export interface ClientDocuments {
	/** `https://<client host>:<port>`. */
	origin: string;
	clientId: string;
	redirectUri: string;
	jwksUri: string;
	/** the paths the authorization server fetched, in order. */
	fetched: string[];
	/** serves this client's metadata and JWKS from now on. */
	serve(oauth: ServedClient): void;
	close(): Promise<void>;
}

/**
 * the https server the authorization server fetches a confidential client's metadata and JWKS
 * from (the client's own web server in production). each one is a new `client_id` (its port
 * differs), which matters: the provider caches client metadata for 10 minutes.
 */
export const serveClientDocuments = async (tls: TlsMaterial): Promise<ClientDocuments> => {
	let current: ServedClient | undefined;
	const fetched: string[] = [];
	const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
		const path = req.url ?? '/';
		fetched.push(path);
		const body =
			path === '/oauth-client-metadata.json'
				? current?.metadata
				: path === '/jwks.json'
					? current?.jwks
					: undefined;
		if (body === undefined) {
			res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
			return;
		}
		// the provider wants exactly this: 200, application/json, no redirect
		res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const origin = `https://${tls.hostnames[0]}:${(server.address() as AddressInfo).port}`;
	return {
		origin,
		clientId: `${origin}/oauth-client-metadata.json`,
		redirectUri: `${origin}/oauth/callback`,
		jwksUri: `${origin}/jwks.json`,
		fetched,
		serve(oauth) {
			current = oauth;
		},
		async close() {
			server.closeAllConnections();
			await new Promise((resolve) => server.close(resolve));
		},
	};
};

/** resolves handles through the local PDS and DIDs through the local PLC. */
export const localActorResolver = (network: LocalNetwork): LocalActorResolver => {
	return new LocalActorResolver({
		handleResolver: new XrpcHandleResolver({ serviceUrl: network.pdsUrl }),
		didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: network.plcUrl }),
	});
};

/** the stores of a test client, kept so tests can look inside. */
export interface TestStores {
	sessions: SessionStore & MemoryStore<string, StoredSession>;
	states: StateStore;
}

export const createStores = (): TestStores => ({
	sessions: new MemoryStore<string, StoredSession>() as TestStores['sessions'],
	states: new MemoryStore() as StateStore,
});

/** options for `createConfidentialClient`. */
export interface ConfidentialClientOptions {
	network: LocalNetwork;
	documents: ClientDocuments;
	keyset: readonly PrivateKey[];
	/** `uri` (default): keys at `jwks_uri`; `inline`: keys in the metadata's `jwks`. */
	jwks?: 'uri' | 'inline';
	stores?: TestStores;
	fetch?: OAuthClientOptions['fetch'];
	/** the client's clock (default `Date.now`). */
	now?: OAuthClientOptions['now'];
}

/**
 * the facade configured as the seed documents it (a confidential client, `private_key_jwt`,
 * ES256), pointed at the local network: its PLC, handles through its PDS, plain http allowed.
 * serves its documents.
 */
export const createConfidentialClient = (options: ConfidentialClientOptions): OAuthClient => {
	const { network, documents } = options;
	const oauth = new OAuthClient({
		metadata: {
			client_id: documents.clientId,
			redirect_uris: [documents.redirectUri],
			scope: [scope.atproto, scope.transition.generic],
			...(options.jwks === 'inline' ? {} : { jwks_uri: documents.jwksUri }),
		},
		keyset: options.keyset,
		stores: options.stores ?? createStores(),
		actorResolver: localActorResolver(network),
		allowHttp: true,
		...(options.fetch === undefined ? {} : { fetch: options.fetch }),
		...(options.now === undefined ? {} : { now: options.now }),
	});
	documents.serve(oauth);
	return oauth;
};

/** where a sign-in starts: the account's handle (default), its DID, or its PDS. */
export type SignInFrom = 'handle' | 'did' | 'pds';

/** a whole sign-in: authorize, the PDS's sign-in and consent pages (over HTTP), callback. */
export const signIn = async (
	oauth: OAuthClient,
	network: LocalNetwork,
	account: LocalAccount,
	from: SignInFrom = 'handle',
): Promise<CallbackResult> => {
	const { url } = await oauth.authorize({
		target:
			from === 'pds'
				? { type: 'pds', serviceUrl: network.pdsUrl }
				: { type: 'account', identifier: from === 'did' ? account.did : account.handle },
		state: { returnTo: '/protected' },
	});
	const callbackUrl = await authorizeWithPassword(url, {
		username: account.handle,
		password: account.password,
	});
	return oauth.callback(callbackUrl.searchParams);
};

/** the authorization step alone (for denial): returns the redirect's parameters. */
export const authorizeOnly = async (
	oauth: OAuthClient,
	account: LocalAccount,
	options: Partial<AuthorizeWithPasswordOptions> = {},
): Promise<URLSearchParams> => {
	const { url } = await oauth.authorize({ target: { type: 'account', identifier: account.handle } });
	const callbackUrl = await authorizeWithPassword(url, {
		username: account.handle,
		password: account.password,
		...options,
	});
	return callbackUrl.searchParams;
};

/** a response a client's fetch saw. */
export interface SeenResponse {
	method: string;
	url: string;
	status: number;
	wwwAuthenticate: string | null;
}

/** a fetch that records every response (status and challenge; never a token). */
export const observingFetch = (): { fetch: typeof fetch; seen: SeenResponse[] } => {
	const seen: SeenResponse[] = [];
	return {
		seen,
		fetch: async (input, init) => {
			const request = new Request(input, init);
			const response = await fetch(request);
			seen.push({
				method: request.method,
				url: request.url.split('?')[0]!,
				status: response.status,
				wwwAuthenticate: response.headers.get('www-authenticate'),
			});
			return response;
		},
	};
};

/**
 * opens the authorization page at `url` as a browser's navigation does, and returns where the
 * provider redirects it at once (an expired or refused request goes back to the client's
 * redirect URI with `error`), or undefined when it answers with the page itself.
 */
export const openAuthorizationPage = async (url: URL): Promise<URL | undefined> => {
	const page = await rawRequest(url, {
		// the provider checks the browser's own sec-fetch-* headers (see authorizeWithPassword)
		headers: {
			'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) atcute-local-network',
			accept: 'text/html',
			'sec-fetch-mode': 'navigate',
			'sec-fetch-dest': 'document',
			'sec-fetch-site': 'cross-site',
		},
	});
	if (page.status === 200) return undefined;
	if (page.status !== 303 || page.location === undefined) {
		throw new Error(`the authorization page answered ${page.status}`);
	}
	return page.location;
};

/** a confidential app as the account e2e tests run it, with what it saw. */
export interface ObservedApp {
	documents: ClientDocuments;
	stores: TestStores;
	oauth: OAuthClient;
	/** every response its `fetch` got. */
	seen: SeenResponse[];
	/** every session event it emitted. */
	events: OAuthSessionEvent[];
}

/** serves an app's documents and makes its client (one ES256 key) on `network`, observed. */
export const startObservedApp = async (network: LocalNetwork): Promise<ObservedApp> => {
	const documents = await serveClientDocuments(network.tls);
	const stores = createStores();
	const observed = observingFetch();
	const oauth = createConfidentialClient({
		network,
		documents,
		keyset: [await generatePrivateKey('main', 'ES256')],
		stores,
		fetch: observed.fetch,
	});
	const events: OAuthSessionEvent[] = [];
	oauth.addEventListener((event) => events.push(event));
	return { documents, stores, oauth, seen: observed.seen, events };
};
