/**
 * the OFFICIAL client, `@atproto/oauth-client-node`, signed in against the local network's
 * reference PDS as a confidential client (`private_key_jwt`, ES256), through the PDS's real
 * sign-in and consent pages. its stores keep a JSON copy of every value it writes, so a test can
 * take a session exactly as an app using the official client would have persisted it (the start
 * of a migration to our library).
 */
import {
	JoseKey,
	NodeOAuthClient,
	type NodeSavedSession,
	type NodeSavedState,
	requestLocalLock,
} from '@atproto/oauth-client-node';

import { authorizeWithPassword, type LocalAccount, type LocalNetwork } from '../src/index.ts';
import { type ClientDocuments, serveClientDocuments } from './helpers.ts';

/** a JSON copy: what a store that serializes (a database, Redis, a file) would hold. */
const jsonCopy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** one write the official client made to a store, as JSON. */
export interface StoreWrite<V> {
	key: string;
	value: V;
}

/** an in-memory `SimpleStore` ({ get, set, del }) that records, as JSON, every value written. */
export class CapturingStore<V> {
	/** what the store holds (JSON copies, as a serializing store would give them back). */
	readonly entries: Map<string, V> = new Map();
	/** every `set`, in order. */
	readonly writes: StoreWrite<V>[] = [];
	/** every `del`, in order. */
	readonly deletes: string[] = [];

	async get(key: string): Promise<V | undefined> {
		const value = this.entries.get(key);
		return value === undefined ? undefined : jsonCopy(value);
	}

	async set(key: string, value: V): Promise<void> {
		const copy = jsonCopy(value);
		this.writes.push({ key, value: jsonCopy(copy) });
		this.entries.set(key, copy);
	}

	async del(key: string): Promise<void> {
		this.deletes.push(key);
		this.entries.delete(key);
	}

	async clear(): Promise<void> {
		this.entries.clear();
	}

	/** the last value written for `key` (a JSON copy), or undefined. */
	lastWrite(key: string): V | undefined {
		const write = this.writes.findLast((entry) => entry.key === key);
		return write === undefined ? undefined : jsonCopy(write.value);
	}
}

/** the client's private key, as a private JWK and the `kid` it is published under. */
export interface OfficialClientKey {
	/** a private EC P-256 JWK (ES256); `kid` and `alg` in it are optional. */
	privateJwk: object;
	kid: string;
}

export interface OfficialClientOptions {
	/** the one ES256 key of the client's keyset (our client can later use the same key). */
	key: OfficialClientKey;
	/** the scope asked for (default `atproto transition:generic`). */
	scope?: string;
	/** the client's fetch (default the global fetch: no safe fetch, so it reaches loopback). */
	fetch?: typeof globalThis.fetch;
	/** the client's documents; default a new https server on loopback (a new `client_id`). */
	documents?: ClientDocuments;
}

/** an official client, configured for the local network, with its documents served. */
export interface OfficialClient {
	client: NodeOAuthClient;
	documents: ClientDocuments;
	sessions: CapturingStore<NodeSavedSession>;
	states: CapturingStore<NodeSavedState>;
	/** closes the documents' server (when this module started it). */
	close(): Promise<void>;
}

export const DEFAULT_OFFICIAL_SCOPE = 'atproto transition:generic';

/**
 * an official `NodeOAuthClient` as a confidential web client: `private_key_jwt` with the given
 * ES256 key, its metadata and JWKS served over https on loopback (`https://client.e2e.internal:<port>`,
 * which the PDS resolves to 127.0.0.1), handles resolved through the PDS's
 * `com.atproto.identity.resolveHandle`, DIDs through the local PLC, plain http allowed.
 */
export const createOfficialClient = async (
	network: LocalNetwork,
	options: OfficialClientOptions,
): Promise<OfficialClient> => {
	const ownDocuments = options.documents === undefined;
	const documents = options.documents ?? (await serveClientDocuments(network.tls));
	try {
		const key = await JoseKey.fromImportable(
			{ ...options.key.privateJwk, kid: options.key.kid } as Parameters<typeof JoseKey.fromImportable>[0],
			options.key.kid,
		);
		const sessions = new CapturingStore<NodeSavedSession>();
		const states = new CapturingStore<NodeSavedState>();
		const client = new NodeOAuthClient({
			clientMetadata: {
				client_id: documents.clientId,
				client_name: 'official client (e2e)',
				client_uri: documents.origin,
				redirect_uris: [documents.redirectUri as `https://${string}`],
				scope: options.scope ?? DEFAULT_OFFICIAL_SCOPE,
				grant_types: ['authorization_code', 'refresh_token'],
				response_types: ['code'],
				application_type: 'web',
				token_endpoint_auth_method: 'private_key_jwt',
				token_endpoint_auth_signing_alg: 'ES256',
				dpop_bound_access_tokens: true,
				jwks_uri: documents.jwksUri as `https://${string}`,
			},
			keyset: [key],
			stateStore: states,
			sessionStore: sessions,
			// the PDS answers com.atproto.identity.resolveHandle for its own handles (`*.test`):
			// a URL here makes the client use an XrpcHandleResolver on `fetch`, not the Node
			// resolver (DNS, then https://<handle>/.well-known over its SSRF-safe fetch)
			handleResolver: network.pdsUrl,
			plcDirectoryUrl: network.plcUrl,
			allowHttp: true,
			// one process: the local lock (also keeps the client from warning that it has none)
			requestLock: requestLocalLock,
			...(options.fetch === undefined ? {} : { fetch: options.fetch }),
		});
		documents.serve({ metadata: client.clientMetadata, jwks: client.jwks });
		return {
			client,
			documents,
			sessions,
			states,
			async close() {
				if (ownDocuments) await documents.close();
			},
		};
	} catch (error) {
		if (ownDocuments) await documents.close();
		throw error;
	}
};

/** a finished sign-in with the official client. */
export interface OfficialSignIn extends OfficialClient {
	did: string;
	/** the exact value the official client wrote to its session store for `did` (a JSON copy). */
	saved: NodeSavedSession;
	/** the `state` the callback returned. */
	state: string | null;
}

/**
 * signs `account` in with the official client: `authorize(handle)` (PAR, DPoP, client assertion),
 * the PDS's sign-in and consent pages (`authorizeWithPassword`, over HTTP), `callback(params)`.
 */
export const signInWithOfficialClient = async (
	network: LocalNetwork,
	account: LocalAccount,
	options: OfficialClientOptions & { state?: string },
): Promise<OfficialSignIn> => {
	const official = await createOfficialClient(network, options);
	try {
		const url = await official.client.authorize(account.handle, {
			scope: options.scope ?? DEFAULT_OFFICIAL_SCOPE,
			...(options.state === undefined ? {} : { state: options.state }),
		});
		const callbackUrl = await authorizeWithPassword(url, {
			username: account.handle,
			password: account.password,
		});
		const { session, state } = await official.client.callback(callbackUrl.searchParams);
		const saved = official.sessions.lastWrite(session.did);
		if (saved === undefined) {
			throw new Error(`the official client stored no session for ${session.did}`);
		}
		return { ...official, did: session.did, saved, state };
	} catch (error) {
		await official.close();
		throw error;
	}
};
