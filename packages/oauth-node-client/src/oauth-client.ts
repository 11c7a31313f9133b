import { OAuthClient as BaseOAuthClient, type OAuthClientOptions } from '@atcute/oauth-client';

import { createNodeSigner } from './node-signer.ts';

/**
 * an atproto OAuth client with Node defaults: DPoP proofs and client assertions are signed
 * through node:crypto (about a third of WebCrypto's cost on Node). see `@atcute/oauth-client`.
 */
export class OAuthClient extends BaseOAuthClient {
	constructor(options: OAuthClientOptions) {
		super({ ...options, createSigner: options.createSigner ?? createNodeSigner });
	}
}
