// the official @atproto/oauth-client-node as the benches set it up beside ours: a confidential
// client with one ES256 key, in-memory stores. shared by flow.bench.mjs and signin-client.mjs
import { generateKeyPairSync } from 'node:crypto';

import { JoseKey, NodeOAuthClient, requestLocalLock } from '@atproto/oauth-client-node';

/** the metadata members that client does not fill in for a confidential ES256 client. */
const CONFIDENTIAL_ES256 = {
	grant_types: ['authorization_code', 'refresh_token'],
	response_types: ['code'],
	application_type: 'web',
	token_endpoint_auth_method: 'private_key_jwt',
	token_endpoint_auth_signing_alg: 'ES256',
	dpop_bound_access_tokens: true,
};

/** a `{ get, set, del, clear }` store on a Map, as that client takes its stores. */
export const mapStore = () => {
	const map = new Map();
	return {
		get: async (key) => map.get(key),
		set: async (key, value) => void map.set(key, value),
		del: async (key) => void map.delete(key),
		clear: async () => map.clear(),
	};
};

/**
 * a `NodeOAuthClient` for `metadata` (`client_id`, `redirect_uris`, `scope`), with a new ES256
 * key, handles resolved through `pdsUrl`'s resolveHandle and DIDs through `plcUrl`, on the global
 * fetch; `options` are passed on (stores, caches, allowHttp).
 */
export const createOfficialClient = async ({ metadata, pdsUrl, plcUrl, ...options }) => {
	const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
	// alg and key_ops as a signing key's JWK has them: without key_ops, the key's public JWK (in the
	// registered metadata) lists verify, encrypt and wrapKey, which the test server's WebCrypto import
	// of an ECDSA key refuses, failing every client assertion
	const key = await JoseKey.fromImportable({ ...jwk, kid: 'main', alg: 'ES256', key_ops: ['sign'] }, 'main');
	return new NodeOAuthClient({
		clientMetadata: { ...metadata, ...CONFIDENTIAL_ES256 },
		keyset: [key],
		stateStore: mapStore(),
		sessionStore: mapStore(),
		handleResolver: pdsUrl,
		plcDirectoryUrl: plcUrl,
		requestLock: requestLocalLock,
		...options,
	});
};
