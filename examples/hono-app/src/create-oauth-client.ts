import type { ActorResolver } from '@atcute/identity-resolver';
import {
	createNodeFetch,
	InvalidKeyError,
	importJwkKey,
	type LockFunction,
	MemoryStore,
	OAuthClient,
	type OAuthClientStores,
	scope,
} from '@atcute/oauth-node-client';

import { type ActorResolverOptions, createActorResolver } from './create-actor-resolver.ts';

/**
 * what every PDS accepts today: sign-in plus the broad "generic" transition scope (repo writes,
 * blobs, most RPC). the default.
 */
export const DEFAULT_SCOPE: readonly string[] = Object.freeze([scope.atproto, scope.transition.generic]);

/**
 * the documented example scope of a full-featured Bluesky client (granular permissions). a PDS
 * only grants `include:` scopes it can resolve, so ask for these only where that is known to work.
 */
export const FULL_BLUESKY_SCOPE: readonly string[] = Object.freeze([
	scope.include({ nsid: 'app.bsky.authFullApp', aud: 'did:web:api.bsky.app#bsky_appview' }),
	scope.include({ nsid: 'chat.bsky.authFullChatClient', aud: 'did:web:api.bsky.chat#bsky_chat' }),
	scope.rpc({ lxm: ['com.atproto.moderation.createReport'], aud: '*' }),
	scope.blob({ accept: ['image/*', 'video/*'] }),
	scope.account({ attr: 'email', action: 'manage' }),
	scope.identity({ attr: 'handle' }),
]);

/** the port a loopback client redirects to when none is given. */
export const DEFAULT_PORT = 3000;

/** options for `createOAuthClient`. */
export interface CreateOAuthClientOptions extends ActorResolverOptions {
	/**
	 * the app's public origin, `https://…` with no path (`https://app.example.com`): the client
	 * metadata, JWKS and callback are served under it. absent or empty: a loopback development
	 * client, which needs no key and no public URL but only works from this machine.
	 */
	publicUrl?: string | undefined;
	/** the client's private key, a JWK as JSON text (`PRIVATE_KEY_JWK`); required with `publicUrl`. */
	privateKeyJwk?: string | undefined;
	/** the port a loopback client's redirect URI names (`http://127.0.0.1:<port>`); default 3000. */
	port?: number | undefined;
	/** the scopes to ask for; default `DEFAULT_SCOPE` (`atproto transition:generic`). */
	scope?: string | readonly string[] | undefined;
	/** the name the authorization server shows on its consent page. */
	clientName?: string | undefined;
	/** the stores; default two `MemoryStore`s (development only: sign-ins end with the process). */
	stores?: OAuthClientStores | undefined;
	/** the refresh lock; default in memory (one process). */
	requestLock?: LockFunction | undefined;
	/** resolves handles and DIDs; default `createActorResolver(options)`. */
	actorResolver?: ActorResolver | undefined;
	/**
	 * > [!WARNING]
	 * > development only: allows plain-http PDSes, authorization servers and PLC (a local PDS).
	 */
	allowHttp?: boolean | undefined;
	/**
	 * the fetch for OAuth and PDS requests and the default resolvers; default `createNodeFetch`,
	 * which refuses private addresses (SSRF) unless `allowHttp` is on.
	 */
	fetch?: typeof fetch | undefined;
	/** the clock, in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
}

/**
 * normalises `PUBLIC_URL` to an origin without a trailing slash, or `undefined` when it is unset.
 * throws a `TypeError` naming the problem.
 */
export const normalizePublicUrl = (value: string | undefined): string | undefined => {
	const trimmed = value?.trim();
	if (trimmed === undefined || trimmed === '') return undefined;
	if (!URL.canParse(trimmed)) {
		throw new TypeError(`PUBLIC_URL is not a URL: ${JSON.stringify(trimmed)}`);
	}
	const url = new URL(trimmed);
	if (url.protocol !== 'https:') {
		// the authorization server fetches the client metadata from here: it must be https
		throw new TypeError(`PUBLIC_URL must be an https URL reachable by the PDS, got ${url.protocol}//…`);
	}
	if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
		throw new TypeError(`PUBLIC_URL must be an origin with no path, like ${url.origin}`);
	}
	return url.origin;
};

/**
 * imports `PRIVATE_KEY_JWK`. a refused key throws an `InvalidKeyError` (same reason) whose message
 * names the variable, with the library's error as its cause: the startup line shows the message
 * alone, and a bare "missing kid" does not say which setting to fix. neither message holds any
 * key material.
 */
const importPrivateKeyJwk = async (privateKeyJwk: string) => {
	try {
		return await importJwkKey(privateKeyJwk);
	} catch (error) {
		if (!(error instanceof InvalidKeyError)) throw error;
		const named = new InvalidKeyError(
			error.reason,
			`PRIVATE_KEY_JWK is not a usable private key (${error.message}); run \`node scripts/setup-env.mjs\` for a new one`,
		);
		named.cause = error;
		throw named;
	}
};

/**
 * builds the app's `OAuthClient` as the documentation does: a confidential client (private_key_jwt)
 * serving its metadata and JWKS under `publicUrl`, or, without `publicUrl`, a loopback public
 * client for local development.
 */
export const createOAuthClient = async (options: CreateOAuthClientOptions = {}): Promise<OAuthClient> => {
	const publicUrl = normalizePublicUrl(options.publicUrl);
	const allowHttp = options.allowHttp ?? false;
	// one guarded transport for the client and the identity resolvers alike: both fetch URLs a
	// visitor chooses (a handle, a DID, the PDS its document names). a local PDS on 127.0.0.1 needs
	// allowHttp, which opens private addresses too, as the OAuthClient's own transport does
	const fetch = options.fetch ?? createNodeFetch({ allowPrivateNetwork: allowHttp });
	const common = {
		stores: options.stores ?? {
			// sessions are keyed by DID, states by OAuth state value; both vanish with the process
			sessions: new MemoryStore(),
			states: new MemoryStore(),
		},
		actorResolver: options.actorResolver ?? createActorResolver({ ...options, fetch }),
		requestLock: options.requestLock,
		allowHttp,
		fetch,
		now: options.now,
	};
	const requestedScope = options.scope ?? DEFAULT_SCOPE;

	if (publicUrl === undefined) {
		const port = options.port ?? DEFAULT_PORT;
		return new OAuthClient({
			// no client_id and no keyset: a loopback client, whose metadata lives in its client_id
			metadata: {
				redirect_uris: [`http://127.0.0.1:${port}/oauth/callback`],
				scope: requestedScope,
			},
			...common,
		});
	}

	const privateKeyJwk = options.privateKeyJwk?.trim();
	if (privateKeyJwk === undefined || privateKeyJwk === '') {
		throw new TypeError(
			'PRIVATE_KEY_JWK is not set: a confidential client (PUBLIC_URL is set) needs a private key; run `node scripts/setup-env.mjs`',
		);
	}

	return new OAuthClient({
		metadata: {
			// this must be the URL where `oauth.metadata` is served
			client_id: `${publicUrl}/oauth-client-metadata.json`,
			redirect_uris: [`${publicUrl}/oauth/callback`],
			scope: requestedScope,
			// the URL where `oauth.jwks` is served, same origin as client_id
			jwks_uri: `${publicUrl}/jwks.json`,
			...(options.clientName === undefined ? {} : { client_name: options.clientName }),
		},
		keyset: [await importPrivateKeyJwk(privateKeyJwk)],
		...common,
	});
};

/** which kind of client `oauth` is: `confidential` (private_key_jwt) or `loopback` (development). */
export const clientMode = (oauth: OAuthClient): 'confidential' | 'loopback' => {
	return oauth.keyset === undefined ? 'loopback' : 'confidential';
};
